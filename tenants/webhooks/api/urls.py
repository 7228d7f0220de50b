from django.urls import path

from tenants.webhooks.api import views

admin_urlpatterns = [
    path("webhooks", views.WebhookEndpointListView.as_view(), name="admin-webhooks"),
    path("webhooks/<int:webhook_id>", views.WebhookEndpointDetailView.as_view(), name="admin-webhook-detail"),
    path(
        "webhooks/<int:webhook_id>/rotate-secret",
        views.WebhookSecretRotateView.as_view(),
        name="admin-webhook-rotate-secret",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries",
        views.WebhookDeliveryListView.as_view(),
        name="admin-webhook-deliveries",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/<uuid:delivery_id>",
        views.WebhookDeliveryDetailView.as_view(),
        name="admin-webhook-delivery-detail",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/<uuid:delivery_id>/redeliver",
        views.WebhookRedeliverView.as_view(),
        name="admin-webhook-redeliver",
    ),
]
