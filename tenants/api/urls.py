"""Platform API routes (platform host): /api/platform/v1/..."""

from django.urls import path
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from tenants.api import views

urlpatterns = [
    path("auth/signup", views.SignupView.as_view(), name="auth-signup"),
    path("auth/token", TokenObtainPairView.as_view(), name="auth-token"),
    path("auth/token/refresh", TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("me", views.MeView.as_view(), name="me"),
    path("shops", views.ShopListCreateView.as_view(), name="shops"),
    path("shops/<slug:slug>", views.ShopDetailView.as_view(), name="shop-detail"),
    path("shops/<slug:slug>/members", views.ShopMemberListCreateView.as_view(), name="shop-members"),
    path(
        "shops/<slug:slug>/members/<int:member_id>",
        views.ShopMemberDetailView.as_view(),
        name="shop-member-detail",
    ),
]
