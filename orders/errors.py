"""Order refusals: each a DomainError with a stable code and the HTTP status it answers with."""

from enum import StrEnum

from tenants.errors import DomainError


class OrdersErrorCode(StrEnum):
    CART_NOT_FOUND = "cart_not_found"
    CART_EMPTY = "cart_empty"
    CART_CHECKED_OUT = "cart_checked_out"
    CART_ITEM_NOT_FOUND = "cart_item_not_found"
    ORDER_NOT_FOUND = "order_not_found"
    ILLEGAL_TRANSITION = "illegal_transition"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_METHOD_DISABLED = "payment_method_disabled"
    REFUND_TOO_LARGE = "refund_too_large"
    SHIPPING_ZONE_OVERLAP = "shipping_zone_overlap"
    SHIPPING_ADDRESS_REQUIRED = "shipping_address_required"
    SHIPPING_METHOD_REQUIRED = "shipping_method_required"
    SHIPPING_METHOD_UNAVAILABLE = "shipping_method_unavailable"
    DISCOUNT_UNKNOWN = "discount_unknown"
    DISCOUNT_EXPIRED = "discount_expired"
    DISCOUNT_MIN_SUBTOTAL = "discount_min_subtotal"
    DISCOUNT_EXHAUSTED = "discount_exhausted"
    DISCOUNT_NOT_APPLICABLE = "discount_not_applicable"
    DISCOUNT_CODE_TAKEN = "discount_code_taken"


class CartNotFound(DomainError):
    status = 404
    code = OrdersErrorCode.CART_NOT_FOUND
    title = "Cart not found"


class CartEmpty(DomainError):
    status = 409
    code = OrdersErrorCode.CART_EMPTY
    title = "Cart is empty"


class CartCheckedOut(DomainError):
    """The cart already became an order: one cart makes one order, whatever the Idempotency-Key."""

    status = 409
    code = OrdersErrorCode.CART_CHECKED_OUT
    title = "Cart already checked out"

    def __init__(self, detail: str, *, order_number: int | None) -> None:
        super().__init__(detail)
        self.order_number = order_number

    @property
    def extensions(self) -> dict[str, object]:
        return {"order": self.order_number}


class CartItemNotFound(DomainError):
    status = 404
    code = OrdersErrorCode.CART_ITEM_NOT_FOUND
    title = "Cart item not found"


class OrderNotFound(DomainError):
    status = 404
    code = OrdersErrorCode.ORDER_NOT_FOUND
    title = "Order not found"


class IllegalTransition(DomainError):
    status = 409
    code = OrdersErrorCode.ILLEGAL_TRANSITION
    title = "Not possible in the order's current state"


class PaymentDeclined(DomainError):
    status = 402
    code = OrdersErrorCode.PAYMENT_DECLINED
    title = "Payment declined"


class PaymentMethodDisabled(DomainError):
    status = 422
    code = OrdersErrorCode.PAYMENT_METHOD_DISABLED
    title = "Payment method not accepted by this shop"


class RefundTooLarge(DomainError):
    status = 409
    code = OrdersErrorCode.REFUND_TOO_LARGE
    title = "Refund exceeds what was paid"


# --- Shipping and discounts ------------------------------------------------------------------


class ShippingZoneOverlap(DomainError):
    """A country may belong to one shipping zone only, so an address has one set of methods."""

    status = 409
    code = OrdersErrorCode.SHIPPING_ZONE_OVERLAP
    title = "Country already in another shipping zone"


class ShippingAddressRequired(DomainError):
    status = 409
    code = OrdersErrorCode.SHIPPING_ADDRESS_REQUIRED
    title = "The cart needs a shipping address first"


class ShippingMethodRequired(DomainError):
    status = 422
    code = OrdersErrorCode.SHIPPING_METHOD_REQUIRED
    title = "Choose a shipping method"


class ShippingMethodUnavailable(DomainError):
    status = 422
    code = OrdersErrorCode.SHIPPING_METHOD_UNAVAILABLE
    title = "Shipping method not available for this cart"


class DiscountUnknown(DomainError):
    status = 422
    code = OrdersErrorCode.DISCOUNT_UNKNOWN
    title = "No such discount code"


class DiscountExpired(DomainError):
    status = 422
    code = OrdersErrorCode.DISCOUNT_EXPIRED
    title = "Discount not valid now"


class DiscountMinSubtotal(DomainError):
    status = 422
    code = OrdersErrorCode.DISCOUNT_MIN_SUBTOTAL
    title = "Subtotal below the discount's minimum"


class DiscountExhausted(DomainError):
    status = 422
    code = OrdersErrorCode.DISCOUNT_EXHAUSTED
    title = "Discount used up"


class DiscountNotApplicable(DomainError):
    status = 422
    code = OrdersErrorCode.DISCOUNT_NOT_APPLICABLE
    title = "Discount does not apply to this cart"


class DiscountCodeTaken(DomainError):
    status = 409
    code = OrdersErrorCode.DISCOUNT_CODE_TAKEN
    title = "Discount code already in use"
