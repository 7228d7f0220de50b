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
    CUSTOMER_EMAIL_TAKEN = "customer_email_taken"
    CUSTOMER_LINK_INVALID = "customer_link_invalid"
    CUSTOMER_PASSWORD_WEAK = "customer_password_weak"
    CUSTOMER_ADDRESS_NOT_FOUND = "customer_address_not_found"
    CUSTOMER_ADDRESS_LIMIT = "customer_address_limit"
    REFUND_LINE_INVALID = "refund_line_invalid"
    FULFILLMENT_LINE_INVALID = "fulfillment_line_invalid"
    NOTHING_TO_FULFILL = "nothing_to_fulfill"
    PAYMENT_NOT_AUTHORIZED = "payment_not_authorized"
    CAPTURE_TOO_LARGE = "capture_too_large"
    CAPTURE_REFUSED = "capture_refused"
    PAYMENT_NOT_AWAITING_ACTION = "payment_not_awaiting_action"
    PAYMENT_PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
    PROVIDER_WEBHOOK_SIGNATURE_INVALID = "provider_webhook_signature_invalid"
    PAYMENT_NOT_FOUND = "payment_not_found"
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


class CustomerEmailTaken(DomainError):
    status = 409
    code = OrdersErrorCode.CUSTOMER_EMAIL_TAKEN
    title = "An account with this e-mail exists in this shop"


class CustomerLinkInvalid(DomainError):
    """An e-mailed link (verification, password reset) that is forged, expired or already used."""

    status = 400
    code = OrdersErrorCode.CUSTOMER_LINK_INVALID
    title = "The link is not valid"


class CustomerPasswordWeak(DomainError):
    status = 400
    code = OrdersErrorCode.CUSTOMER_PASSWORD_WEAK
    title = "The password is too weak"


class CustomerAddressNotFound(DomainError):
    status = 404
    code = OrdersErrorCode.CUSTOMER_ADDRESS_NOT_FOUND
    title = "Address not found"


class CustomerAddressLimit(DomainError):
    status = 409
    code = OrdersErrorCode.CUSTOMER_ADDRESS_LIMIT
    title = "Too many saved addresses"


class RefundLineInvalid(DomainError):
    """A refund line names a line of another order, or more units than are left to refund."""

    status = 422
    code = OrdersErrorCode.REFUND_LINE_INVALID
    title = "Refund line not possible"


class FulfillmentLineInvalid(DomainError):
    """A fulfilment line names a line of another order, a line twice, or more units than are left to ship."""

    status = 422
    code = OrdersErrorCode.FULFILLMENT_LINE_INVALID
    title = "Fulfilment line not possible"


class NothingToFulfill(DomainError):
    """Every unit of the order has shipped (or was refunded and put back into stock)."""

    status = 409
    code = OrdersErrorCode.NOTHING_TO_FULFILL
    title = "Nothing left to fulfil"


class PaymentNotAuthorized(DomainError):
    """Capture and void act on an authorized card payment only."""

    status = 409
    code = OrdersErrorCode.PAYMENT_NOT_AUTHORIZED
    title = "The order's payment is not authorized"


class CaptureTooLarge(DomainError):
    status = 409
    code = OrdersErrorCode.CAPTURE_TOO_LARGE
    title = "More than was authorized"


class CaptureRefused(DomainError):
    """The provider refused to take the money (the authorization lapsed, say); nothing changed here."""

    status = 402
    code = OrdersErrorCode.CAPTURE_REFUSED
    title = "The provider refused the capture"


class PaymentNotAwaitingAction(DomainError):
    status = 409
    code = OrdersErrorCode.PAYMENT_NOT_AWAITING_ACTION
    title = "The order's payment is not awaiting the shopper"


class PaymentProviderUnavailable(DomainError):
    """The provider did not answer; what it did is looked up later (the money is never taken twice)."""

    status = 503
    code = OrdersErrorCode.PAYMENT_PROVIDER_UNAVAILABLE
    title = "Payment provider unavailable"


class ProviderWebhookSignatureInvalid(DomainError):
    status = 400
    code = OrdersErrorCode.PROVIDER_WEBHOOK_SIGNATURE_INVALID
    title = "Provider webhook signature missing, wrong or too old"


class PaymentNotFound(DomainError):
    status = 404
    code = OrdersErrorCode.PAYMENT_NOT_FOUND
    title = "No such payment in this shop"


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
