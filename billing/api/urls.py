"""Billing routes on the platform host: /api/platform/v1/..."""

from django.urls import path

from billing.api import views

urlpatterns = [
    path("plans", views.PlanListView.as_view(), name="plans"),
    path("shops/<slug:slug>/subscription", views.SubscriptionView.as_view(), name="shop-subscription"),
    path("shops/<slug:slug>/usage", views.UsageView.as_view(), name="shop-usage"),
    path("shops/<slug:slug>/invoices", views.InvoiceListView.as_view(), name="shop-invoices"),
    path(
        "shops/<slug:slug>/invoices/upcoming",
        views.UpcomingInvoiceView.as_view(),
        name="shop-invoices-upcoming",
    ),
]
