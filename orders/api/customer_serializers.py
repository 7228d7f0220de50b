"""Input and output serializers of the shopper-account endpoints (Storefront API, `customer/...`)."""

from __future__ import annotations

from rest_framework import serializers

from orders.api.serializers import AddressOutput, CartOutput, ShippingAddressInput
from tenants.conventions.fields import StrictBooleanField, StrictCharField

ORDER_NUMBER_MAX = 2**62


class CustomerSignupInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class CustomerSignInInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)


class CustomerRefreshInput(serializers.Serializer):
    refresh = StrictCharField(max_length=2000)


class CustomerTokensOutput(serializers.Serializer):
    access = serializers.CharField(help_text="Send as `Authorization: Bearer <access>` to `customer/...`.")
    refresh = serializers.CharField(help_text="Good for one `customer/token/refresh`.")


class CustomerAccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    email_verified = serializers.SerializerMethodField(
        help_text="Whether the e-mail is verified; guest orders placed with it show once it is."
    )
    signed_up_at = serializers.DateTimeField()

    def get_email_verified(self, customer: object) -> bool:
        return getattr(customer, "email_verified_at", None) is not None


class CustomerUpdateInput(serializers.Serializer):
    name = StrictCharField(max_length=200, required=False, allow_blank=True)


class CustomerEmailInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class CustomerEmailChangeInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254, help_text="The new e-mail; the link goes there.")
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)


class CustomerLinkInput(serializers.Serializer):
    token = StrictCharField(max_length=500, help_text="The `token` of the e-mailed link.")


class CustomerPasswordResetConfirmInput(CustomerLinkInput):
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)


class CustomerAddressInput(ShippingAddressInput):
    is_default = StrictBooleanField(required=False, default=False)


class CustomerAddressUpdateInput(CustomerAddressInput):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for field in self.fields.values():
            field.required = False
        self.fields["line2"].default = serializers.empty
        self.fields["is_default"].default = serializers.empty


class CustomerAddressOutput(AddressOutput):
    id = serializers.IntegerField()
    is_default = serializers.BooleanField()


class ReorderInput(serializers.Serializer):
    cart = serializers.RegexField(
        r"^[0-9a-f]{32}$", required=False, help_text="A cart to add to; a new cart is started without it."
    )


class ReorderOutput(serializers.Serializer):
    cart = CartOutput()
    unavailable = serializers.ListField(
        child=serializers.CharField(),
        help_text="SKUs of lines that could not go back in (gone, or out of stock).",
    )


class OrderLookupInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    number = serializers.IntegerField(min_value=1, max_value=ORDER_NUMBER_MAX)
