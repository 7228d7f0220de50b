"""Billing routes on the platform host: /api/platform/v1/..."""

from django.urls import path

from billing.api import views

urlpatterns = [
    path("plans", views.PlanListView.as_view(), name="plans"),
]
