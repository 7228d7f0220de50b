from django.urls import path

from orders.api import reports, selling, views

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
    path("checkout", views.CheckoutView.as_view(), name="storefront-checkout"),
    path("payment-methods", views.PaymentMethodsView.as_view(), name="storefront-payment-methods"),
    path("orders/<int:number>", views.ShopperOrderView.as_view(), name="storefront-order"),
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
    path("customers", views.AdminCustomerListView.as_view(), name="admin-customers"),
    path("payment-settings", views.AdminPaymentSettingsView.as_view(), name="admin-payment-settings"),
    path("customers/<int:customer_id>", views.AdminCustomerDetailView.as_view(), name="admin-customer"),
    path("reports/sales", reports.AdminSalesReportView.as_view(), name="admin-reports-sales"),
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
