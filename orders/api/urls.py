from django.urls import path

from orders.api import customers, dashboard, exports, reports, selling, views

storefront_urlpatterns = [
    path("carts", views.CartCreateView.as_view(), name="storefront-carts"),
    path("carts/<str:cart_id>", views.CartDetailView.as_view(), name="storefront-cart"),
    path("carts/<str:cart_id>/items", views.CartItemsView.as_view(), name="storefront-cart-items"),
    path(
        "carts/<str:cart_id>/items/<int:item_id>", views.CartItemView.as_view(), name="storefront-cart-item"
    ),
    path(
        "carts/<str:cart_id>/shipping-address",
        selling.CartShippingAddressView.as_view(),
        name="storefront-cart-shipping-address",
    ),
    path(
        "carts/<str:cart_id>/shipping-methods",
        selling.CartShippingMethodsView.as_view(),
        name="storefront-cart-shipping-methods",
    ),
    path(
        "carts/<str:cart_id>/shipping-method",
        selling.CartShippingMethodView.as_view(),
        name="storefront-cart-shipping-method",
    ),
    path(
        "carts/<str:cart_id>/discount-codes",
        selling.CartDiscountCodesView.as_view(),
        name="storefront-cart-discount-codes",
    ),
    path(
        "carts/<str:cart_id>/discount-codes/<str:code>",
        selling.CartDiscountCodeView.as_view(),
        name="storefront-cart-discount-code",
    ),
    path(
        "countries/<str:country>/regions",
        selling.CountryRegionsView.as_view(),
        name="storefront-country-regions",
    ),
    path("checkout", views.CheckoutView.as_view(), name="storefront-checkout"),
    path("payment-methods", views.PaymentMethodsView.as_view(), name="storefront-payment-methods"),
    path("orders/<int:number>", views.ShopperOrderView.as_view(), name="storefront-order"),
    path("orders/lookup", customers.OrderLookupView.as_view(), name="storefront-orders-lookup"),
    path("customer/signup", customers.CustomerSignupView.as_view(), name="storefront-customer-signup"),
    path("customer/token", customers.CustomerTokenView.as_view(), name="storefront-customer-token"),
    path(
        "customer/token/refresh",
        customers.CustomerTokenRefreshView.as_view(),
        name="storefront-customer-token-refresh",
    ),
    path("customer/me", customers.CustomerMeView.as_view(), name="storefront-customer-me"),
    path("customer/logout", customers.CustomerSignOutView.as_view(), name="storefront-customer-logout"),
    path(
        "customer/email-change",
        customers.CustomerEmailChangeView.as_view(),
        name="storefront-customer-email-change",
    ),
    path(
        "customer/email-change/confirm",
        customers.CustomerEmailChangeConfirmView.as_view(),
        name="storefront-customer-email-change-confirm",
    ),
    path(
        "customer/verify-email",
        customers.CustomerVerifyEmailView.as_view(),
        name="storefront-customer-verify",
    ),
    path(
        "customer/verify-email/resend",
        customers.CustomerVerifyEmailResendView.as_view(),
        name="storefront-customer-verify-resend",
    ),
    path(
        "customer/password-reset",
        customers.CustomerPasswordResetView.as_view(),
        name="storefront-customer-password-reset",
    ),
    path(
        "customer/password-reset/confirm",
        customers.CustomerPasswordResetConfirmView.as_view(),
        name="storefront-customer-password-reset-confirm",
    ),
    path(
        "customer/addresses",
        customers.CustomerAddressListView.as_view(),
        name="storefront-customer-addresses",
    ),
    path(
        "customer/addresses/<int:address_id>",
        customers.CustomerAddressView.as_view(),
        name="storefront-customer-address",
    ),
    path("customer/orders", customers.CustomerOrderListView.as_view(), name="storefront-customer-orders"),
    path(
        "customer/orders/<int:number>/reorder",
        customers.CustomerReorderView.as_view(),
        name="storefront-customer-reorder",
    ),
    path(
        "orders/<int:number>/payment-confirmation",
        views.PaymentConfirmationView.as_view(),
        name="storefront-order-payment-confirmation",
    ),
    path(
        "payments/<str:provider>/webhook",
        views.ProviderWebhookView.as_view(),
        name="storefront-payment-provider-webhook",
    ),
]

admin_urlpatterns = [
    path("orders", views.AdminOrderListView.as_view(), name="admin-orders"),
    path("orders/<int:number>", views.AdminOrderDetailView.as_view(), name="admin-order"),
    path(
        "orders/<int:number>/mark-paid", views.AdminOrderMarkPaidView.as_view(), name="admin-order-mark-paid"
    ),
    path("orders/<int:number>/fulfill", views.AdminOrderFulfillView.as_view(), name="admin-order-fulfill"),
    path("orders/<int:number>/cancel", views.AdminOrderCancelView.as_view(), name="admin-order-cancel"),
    path("orders/<int:number>/refund", views.AdminOrderRefundView.as_view(), name="admin-order-refund"),
    path("orders/<int:number>/capture", views.AdminOrderCaptureView.as_view(), name="admin-order-capture"),
    path("orders/<int:number>/void", views.AdminOrderVoidView.as_view(), name="admin-order-void"),
    path("orders/<int:number>/events", views.AdminOrderEventsView.as_view(), name="admin-order-events"),
    path("orders/<int:number>/notes", views.AdminOrderNotesView.as_view(), name="admin-order-notes"),
    path("customers", views.AdminCustomerListView.as_view(), name="admin-customers"),
    path("payment-settings", views.AdminPaymentSettingsView.as_view(), name="admin-payment-settings"),
    path("customers/<int:customer_id>", views.AdminCustomerDetailView.as_view(), name="admin-customer"),
    path("reports/sales", reports.AdminSalesReportView.as_view(), name="admin-reports-sales"),
    path("orders/export", exports.AdminOrderExportView.as_view(), name="admin-orders-export"),
    path(
        "order-exports/<uuid:export_id>",
        exports.AdminOrderExportDetailView.as_view(),
        name="admin-order-export",
    ),
    path("dashboard", dashboard.AdminDashboardView.as_view(), name="admin-dashboard"),
    path("shipping-zones", selling.AdminShippingZoneListView.as_view(), name="admin-shipping-zones"),
    path(
        "shipping-zones/<int:zone_id>",
        selling.AdminShippingZoneDetailView.as_view(),
        name="admin-shipping-zone",
    ),
    path("taxes", selling.AdminTaxesView.as_view(), name="admin-taxes"),
    path("discounts", selling.AdminDiscountListView.as_view(), name="admin-discounts"),
    path("discounts/<int:discount_id>", selling.AdminDiscountDetailView.as_view(), name="admin-discount"),
]
