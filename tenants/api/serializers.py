from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tenants.conventions.fields import StrictBooleanField, StrictCharField, StrictRegexField
from tenants.models import ApiKey, Membership, Shop, ShopExport
from tenants.money import CURRENCIES


class SignupInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)
    name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    is_staff = serializers.BooleanField()


class MembershipOutput(serializers.Serializer):
    shop = serializers.CharField(source="shop.slug", help_text="The shop's slug.")
    shop_name = serializers.CharField(source="shop.name")
    domain = serializers.CharField(help_text="The shop's primary hostname.")
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class MeOutput(UserOutput):
    memberships = MembershipOutput(many=True)


class ShopCreateInput(serializers.Serializer):
    name = StrictCharField(max_length=120)
    slug = StrictCharField(max_length=40, help_text="3–40 of a-z, 0-9 and hyphens; becomes the subdomain.")
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False, default="USD")
    plan = StrictCharField(
        max_length=40, required=False, help_text="A plan's code (see `plans`); the free plan if left out."
    )


DIRECTORY_CATEGORY = r"^[a-z0-9][a-z0-9-]{0,39}$"
DIRECTORY_CATEGORY_HELP = "1–40 of a-z, 0-9 and hyphens, e.g. `bakery`."


class DirectoryCoordinate(serializers.DecimalField):
    """Decimal degrees as a JSON number: NaN and Infinity are refused by DRF, huge values by the range."""

    def __init__(self, *, limit: int, **kwargs: Any) -> None:
        super().__init__(
            max_digits=9,
            decimal_places=6,
            min_value=-limit,
            max_value=limit,
            coerce_to_string=False,
            allow_null=True,
            **kwargs,
        )


class DirectoryProfileInput(serializers.Serializer):
    listed = StrictBooleanField(
        required=False, help_text="Show the shop in the directory (needs a location)."
    )
    description = StrictCharField(max_length=2000, required=False, allow_blank=True)
    address = StrictCharField(max_length=300, required=False, allow_blank=True)
    latitude = DirectoryCoordinate(limit=90, required=False, help_text="Decimal degrees, -90 to 90.")
    longitude = DirectoryCoordinate(limit=180, required=False, help_text="Decimal degrees, -180 to 180.")
    categories = serializers.ListField(
        child=StrictRegexField(DIRECTORY_CATEGORY, max_length=40, help_text=DIRECTORY_CATEGORY_HELP),
        max_length=10,
        required=False,
    )
    pickup = StrictBooleanField(required=False, help_text="Shoppers can collect orders at the address.")
    opening_hours = StrictCharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text="As shoppers read it, e.g. `Mon–Sat 9–18`.",
    )


class DirectoryPublicFields(serializers.Serializer):
    """What a directory profile shows shoppers, in both answers that carry it."""

    description = serializers.CharField()
    address = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    pickup = serializers.BooleanField()
    opening_hours = serializers.CharField()


class DirectoryProfileOutput(DirectoryPublicFields):
    listed = serializers.BooleanField()
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, coerce_to_string=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, coerce_to_string=False, allow_null=True
    )


class ShopUpdateInput(serializers.Serializer):
    name = StrictCharField(max_length=120, required=False)
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False)
    directory = DirectoryProfileInput(
        required=False, help_text="The shop's directory profile: only the fields sent change."
    )


class ShopOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    schema_name = serializers.CharField()
    domain = serializers.CharField()
    status = serializers.ChoiceField(choices=Shop.Status.choices)
    currency = serializers.CharField()
    plan = serializers.CharField(required=False, help_text="The code of the shop's plan.")
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)
    created_at = serializers.DateTimeField()
    directory = DirectoryProfileOutput(
        required=False,
        allow_null=True,
        help_text="The directory profile (one shop's answers); null until set.",
    )


class DirectoryShopOutput(DirectoryPublicFields):
    slug = serializers.CharField()
    name = serializers.CharField()
    domain = serializers.CharField(help_text="The shop's primary hostname (its storefront).")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=False)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=False)
    distance_km = serializers.FloatField(
        help_text="From the point asked about, in kilometres (great circle)."
    )


class StorefrontShopOutput(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    currency = serializers.CharField()


class ApiKeyCreateInput(serializers.Serializer):
    name = StrictCharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiKey.Scope.choices),
        allow_empty=False,
        min_length=1,
        max_length=10,
    )


class ApiKeyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's public prefix, to recognise it in lists.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiKey.Scope.choices))
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The secret key. Shown only in this response; store it now.")


class ShopDeleteInput(serializers.Serializer):
    confirm = StrictCharField(max_length=40, help_text="The shop's slug, to confirm the deletion.")


class ExportOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ShopExport.Status.choices)
    reason = serializers.ChoiceField(choices=ShopExport.Reason.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="Percent of tables written.")
    tables_done = serializers.IntegerField()
    tables_total = serializers.IntegerField()
    rows_written = serializers.IntegerField()
    size = serializers.IntegerField(allow_null=True, help_text="Bytes, once done.")
    download_url = serializers.CharField(
        allow_null=True,
        help_text="Once done: a private link to the JSON Lines file, valid for a limited time "
        "(presigned with S3; a signed URL on the platform host with local storage).",
    )
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ShopDeletionOutput(serializers.Serializer):
    slug = serializers.CharField()
    status = serializers.ChoiceField(choices=Shop.Status.choices)
    export = ExportOutput(help_text="The final export, written before anything is removed.")


class DomainInput(serializers.Serializer):
    domain = StrictCharField(max_length=253, help_text="A hostname you control, e.g. shop.example.com.")


class DomainOutput(serializers.Serializer):
    id = serializers.IntegerField()
    domain = serializers.CharField()
    is_primary = serializers.BooleanField(
        help_text="The shop's `{slug}.<base domain>`; it cannot be removed."
    )


class MemberInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254, help_text="A platform user's e-mail.")
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False, default="staff")


class MemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.name")
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    created_at = serializers.DateTimeField()


# --- Accounts by e-mailed link: password reset, e-mail change, invitations ---------------

TOKEN_MAX = 512  # every link token is far shorter; longer input is refused before any look-up


class PasswordResetInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInput(serializers.Serializer):
    token = StrictCharField(max_length=TOKEN_MAX, help_text="The `token` of the e-mailed link.")
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)


class EmailChangeInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254, help_text="The new address; a link goes there.")
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)


class LinkTokenInput(serializers.Serializer):
    token = StrictCharField(max_length=TOKEN_MAX, help_text="The `token` of the e-mailed link.")


class InvitationInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False, default="staff")


class InvitationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    status = serializers.ChoiceField(choices=["pending", "expired", "accepted", "revoked"])
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class InvitationAcceptInput(serializers.Serializer):
    token = StrictCharField(max_length=TOKEN_MAX, help_text="The `token` of the e-mailed link.")
    name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")
    password = StrictCharField(
        max_length=128,
        write_only=True,
        trim_whitespace=False,
        required=False,
        help_text="Needed when the invited address has no account yet: the new account's password.",
    )


class InvitationAcceptedOutput(serializers.Serializer):
    shop = serializers.CharField(help_text="The shop's slug.")
    shop_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    email = serializers.EmailField(help_text="The account that joined; sign in with it.")
    account_created = serializers.BooleanField()
