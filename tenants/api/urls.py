"""Platform API routes (platform host): /api/platform/v1/..."""

from django.urls import path

from tenants.api import accounts, directory, views

urlpatterns = [
    path("auth/signup", views.SignupView.as_view(), name="auth-signup"),
    path("auth/token", views.SignInView.as_view(), name="auth-token"),
    path("auth/token/refresh", views.TokenRotateView.as_view(), name="auth-token-refresh"),
    path("auth/logout", views.SignOutView.as_view(), name="auth-logout"),
    path("auth/password-reset", accounts.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm",
        accounts.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("auth/email-change", accounts.EmailChangeView.as_view(), name="auth-email-change"),
    path(
        "auth/email-change/confirm",
        accounts.EmailChangeConfirmView.as_view(),
        name="auth-email-change-confirm",
    ),
    path("invitations/accept", accounts.InvitationAcceptView.as_view(), name="invitations-accept"),
    path("me", views.MeView.as_view(), name="me"),
    path("directory/shops", directory.DirectoryShopListView.as_view(), name="directory-shops"),
    path("shops", views.ShopListCreateView.as_view(), name="shops"),
    path("shops/<slug:slug>", views.ShopDetailView.as_view(), name="shop-detail"),
    path("shops/<slug:slug>/suspend", views.ShopSuspendView.as_view(), name="shop-suspend"),
    path("shops/<slug:slug>/reactivate", views.ShopReactivateView.as_view(), name="shop-reactivate"),
    path("shops/<slug:slug>/export", views.ShopExportCreateView.as_view(), name="shop-export"),
    path(
        "shops/<slug:slug>/exports/<uuid:export_id>",
        views.ShopExportDetailView.as_view(),
        name="shop-export-detail",
    ),
    path("shops/<slug:slug>/domains", views.DomainListCreateView.as_view(), name="shop-domains"),
    path(
        "shops/<slug:slug>/domains/<int:domain_id>",
        views.DomainDetailView.as_view(),
        name="shop-domain-detail",
    ),
    path("shops/<slug:slug>/members", views.ShopMemberListCreateView.as_view(), name="shop-members"),
    path(
        "shops/<slug:slug>/members/<int:member_id>",
        views.ShopMemberDetailView.as_view(),
        name="shop-member-detail",
    ),
    path(
        "shops/<slug:slug>/invitations", accounts.InvitationListCreateView.as_view(), name="shop-invitations"
    ),
    path(
        "shops/<slug:slug>/invitations/<int:invitation_id>",
        accounts.InvitationDetailView.as_view(),
        name="shop-invitation-detail",
    ),
    path(
        "shops/<slug:slug>/invitations/<int:invitation_id>/resend",
        accounts.InvitationResendView.as_view(),
        name="shop-invitation-resend",
    ),
]
