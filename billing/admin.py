"""Django admin for platform staff: plans, subscriptions, usage and invoices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from billing import invoicing, selectors, services
from billing.limits import limit_message
from billing.models import Invoice, InvoiceLine, Plan, PlanChange, ShopUsage, Subscription, UsagePeriod
from tenants.http import request_user


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "price_amount",
        "currency",
        "max_products",
        "max_orders_per_month",
        "max_staff_seats",
        "max_storage_bytes",
        "api_requests_per_minute",
    ]
    ordering = ["position"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        # Subscriptions and invoices refer to plans; retire a plan by moving its shops instead.
        return False

    def save_model(self, request: HttpRequest, obj: Plan, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Every process keeps its shops' limits: make them all read the plan again.
        transaction.on_commit(lambda: selectors.shop_plan_limits_forget())


class PlanChangeInline(admin.TabularInline):
    model = PlanChange
    fk_name = "shop"
    extra = 0
    can_delete = False
    fields = ("changed_at", "previous_plan", "plan", "changed_by")
    readonly_fields = fields
    ordering = ["-changed_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = ["plan"]

    def clean_plan(self) -> Plan:
        plan: Plan = self.cleaned_data["plan"]
        exceeded = services.usage_exceeding(self.instance.shop_id, plan)
        if exceeded:
            raise forms.ValidationError(
                [f"{limit_message(plan, metric)}; the shop has {used:,}." for metric, used in exceeded]
            )
        return plan


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["shop", "plan", "started_at", "plan_changed_at"]
    list_filter = ["plan"]
    search_fields = ["shop__slug", "shop__name"]
    readonly_fields = ["shop", "started_at", "plan_changed_at"]
    list_select_related = ["shop", "plan"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created with the shop

    def has_delete_permission(self, request: HttpRequest, obj: Subscription | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Subscription, form: Any, change: bool) -> None:
        # Through the service, so the change is recorded and the limits cache cleared.
        services.subscription_change(shop=obj.shop, plan_code=obj.plan.code, by=request_user(request))


@admin.register(ShopUsage)
class ShopUsageAdmin(admin.ModelAdmin):
    list_display = ["shop", "products", "storage_bytes", "updated_at"]
    search_fields = ["shop__slug"]
    readonly_fields = ["shop", "products", "storage_bytes", "updated_at"]
    list_select_related = ["shop"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UsagePeriod)
class UsagePeriodAdmin(ShopUsageAdmin):
    list_display = ["shop", "period", "orders", "api_calls"]
    list_filter = ["period"]
    readonly_fields = ["shop", "period", "orders", "api_calls"]


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ("position", "kind", "description", "quantity", "unit_amount", "amount")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "shop_slug", "period", "plan", "status", "total_amount", "currency", "due_at"]
    list_filter = ["status", "period", "plan"]
    search_fields = ["number", "shop_slug", "shop_name"]
    readonly_fields = [
        "number",
        "shop",
        "shop_slug",
        "shop_name",
        "plan",
        "period",
        "status",
        "currency",
        "total_amount",
        "issued_at",
        "due_at",
        "paid_at",
        "voided_at",
        "created_at",
    ]
    inlines = [InvoiceLineInline]
    actions = ["mark_paid", "void"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued by the beat task or `manage.py issue_invoices`

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # void instead

    @admin.action(description="Mark selected open invoices paid")
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        for invoice in queryset:
            invoicing.invoice_mark_paid(invoice=invoice)
        messages.success(request, "Open invoices marked paid.")

    @admin.action(description="Void selected draft or open invoices")
    def void(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        for invoice in queryset:
            invoicing.invoice_void(invoice=invoice)
        messages.success(request, "Draft and open invoices voided.")
