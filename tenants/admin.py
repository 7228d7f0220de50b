from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from tenants import services
from tenants.errors import DomainError
from tenants.http import request_user
from tenants.models import ApiKey, Domain, Membership, Shop, ShopExport, SpareSchema, User


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "schema_name", "status", "currency", "created_at"]
    list_filter = ["status"]
    search_fields = ["slug", "name", "domains__domain"]
    readonly_fields = ["schema_name", "created_at"]
    inlines = [DomainInline, MembershipInline]
    actions = ["suspend", "reactivate"]

    def has_add_permission(self, request: object) -> bool:
        # Shops are provisioned through the Platform API (warm pool), never by hand.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Shop | None = None) -> list[str]:
        # Status changes go through the actions (audited, routing caches invalidated everywhere);
        # currency changes through the Platform API (shop_update: every process's host cache and
        # the storefront cache forget the old one).
        return [*self.readonly_fields, "status", "currency"]

    def _status_action(
        self, request: HttpRequest, queryset: QuerySet[Shop], change: Callable[..., object], verb: str
    ) -> None:
        done = 0
        for shop in queryset:
            try:
                change(shop=shop, by=request_user(request))
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{shop.slug}: {exc.detail}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} shop(s).", messages.SUCCESS)

    @admin.action(description="Suspend the selected shops (storefront answers 503)")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        self._status_action(request, queryset, services.shop_suspend, "Suspended")

    @admin.action(description="Reactivate the selected shops")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        self._status_action(request, queryset, services.shop_reactivate, "Reactivated")


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain", "tenant__slug"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "name")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "shop__slug"]
    autocomplete_fields = ["user", "shop"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "prefix", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "shop__slug"]
    readonly_fields = ["prefix", "secret_hash", "created_at", "last_used_at"]


@admin.register(SpareSchema)
class SpareSchemaAdmin(admin.ModelAdmin):
    list_display = ["schema_name", "created_at"]


@admin.register(ShopExport)
class ShopExportAdmin(admin.ModelAdmin):
    list_display = ["id", "schema_name", "shop", "reason", "status", "rows_written", "size", "created_at"]
    list_filter = ["status", "reason"]
    search_fields = ["schema_name", "shop__slug", "id"]
    readonly_fields = [field.name for field in ShopExport._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
