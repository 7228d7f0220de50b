from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from tenants.models import ApiKey, Domain, Membership, Shop, SpareSchema, User


class DomainInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["slug", "name", "schema_name", "status", "currency", "created_at"]
    list_filter = ["status"]
    search_fields = ["slug", "name", "domains__domain"]
    readonly_fields = ["schema_name", "created_at"]
    inlines = [DomainInline, MembershipInline]

    def has_add_permission(self, request: object) -> bool:
        # Shops are provisioned through the Platform API (warm pool), never by hand.
        return False


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
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
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "shop__slug"]
    autocomplete_fields = ["user", "shop"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "shop", "prefix", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "shop__slug"]
    readonly_fields = ["prefix", "secret_hash", "created_at", "last_used_at"]


@admin.register(SpareSchema)
class SpareSchemaAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["schema_name", "created_at"]
