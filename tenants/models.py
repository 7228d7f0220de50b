"""
The public schema: platform users, shops and their domains, memberships, API
keys, the warm pool of spare schemas, and idempotency records.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A platform user: merchants and platform staff, who log in with an e-mail."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Platform staff: Django admin, suspensions.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    def __str__(self) -> str:
        return self.email


class Shop(TenantMixin):
    """A shop: one PostgreSQL schema, reached through its domains."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"  # by platform staff: the storefront answers 503, the Admin API works
        DELETING = "deleting"  # unreachable at once; a worker exports, then removes everything

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=40, unique=True)
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    # Schemas come from the warm pool or a template clone (tenants.provisioning),
    # never from running migrations on the request path.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.slug


class Domain(DomainMixin):
    """A hostname that routes to a shop: `{slug}.{SHOP_BASE_DOMAIN}` or a custom one."""


class Membership(models.Model):
    """A platform user's role in one shop."""

    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        STAFF = "staff"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="membership_user_shop_unique")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.shop}"


class ApiKey(models.Model):
    """
    A third party's key to one shop's Admin API.

    The secret is shown once at creation; only its SHA-256 is kept. The public
    `prefix` finds the row, and the row only matches on its own shop's host.
    """

    class Scope(models.TextChoices):
        CATALOG_READ = "catalog:read"
        CATALOG_WRITE = "catalog:write"
        ORDERS_READ = "orders:read"
        ORDERS_WRITE = "orders:write"
        WEBHOOKS_WRITE = "webhooks:write"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = ArrayField(models.CharField(max_length=32, choices=Scope.choices))
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SpareSchema(models.Model):
    """A pre-migrated schema waiting in the warm pool to become a shop."""

    schema_name = models.CharField(max_length=63, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.schema_name


class SchemaMigrationState(models.Model):
    """
    `migrate_schemas`' record: the schema has applied every migration of the
    graph whose fingerprint is stored, so later runs skip it without a query.
    """

    schema_name = models.CharField(max_length=63, primary_key=True)
    fingerprint = models.CharField(max_length=64)
    migrated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.schema_name} @ {self.fingerprint[:12]}"


class ShopExport(models.Model):
    """
    A shop's data written by a worker as JSON Lines to object storage
    (`tenants/{schema}/exports/{id}.jsonl`). Kept in public, with the schema's
    name, so the export made before a shop's deletion outlives the shop.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Reason(models.TextChoices):
        REQUESTED = "requested"
        DELETION = "deletion"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop = models.ForeignKey(Shop, null=True, on_delete=models.SET_NULL, related_name="exports")
    schema_name = models.CharField(max_length=63)
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.REQUESTED)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    tables_total = models.PositiveIntegerField(default=0)
    tables_done = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveBigIntegerField(default=0)
    key = models.CharField(max_length=1000, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.id} of {self.schema_name} ({self.status})"

    @property
    def progress(self) -> int:
        """Percent done: tables written of tables to write."""
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.tables_done / self.tables_total) if self.tables_total else 0


class Invitation(models.Model):
    """
    An invitation, by e-mail, to join a shop with a role; accepting it creates
    the account when the address has none, then the membership. The link's token
    is an HMAC of the row's id and its current `nonce` (tenants.accounts), so it
    is never stored, a resend (a new nonce) kills the link sent before, and the
    worker that e-mails it can compute it again from the row.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=8, choices=Membership.Role.choices)
    nonce = models.CharField(max_length=32)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(default=timezone.now, help_text="When the link last went out.")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One open invitation per address and shop: inviting again resends it.
            models.UniqueConstraint(
                fields=["shop", "email"],
                name="invitation_open_unique",
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} invited to {self.shop} as {self.role}"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class SentEmailRecord(models.Model):
    """
    An e-mail sent for an outbox event: one row per (event, kind, recipient),
    written in the transaction that sends it (tenants.mail), so a handler run
    again for the same event skips what already went out. Each schema that sends
    keeps its own table: orders.SentEmail in a shop's, PlatformEmail in public.
    """

    event_id = models.UUIDField(help_text="The outbox event that caused the e-mail.")
    recipient = models.EmailField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{getattr(self, 'kind', 'e-mail')} to {self.recipient} for {self.event_id}"


class PlatformEmail(SentEmailRecord):
    """An account e-mail (password reset, e-mail change, invitation) sent for a public-schema event."""

    class Kind(models.TextChoices):
        PASSWORD_RESET = "password_reset"
        EMAIL_CHANGE = "email_change"
        INVITATION = "invitation"

    kind = models.CharField(max_length=32, choices=Kind.choices)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "kind", "recipient"], name="platform_email_sent_once")
        ]


class DirectoryProfile(models.Model):
    """
    A shop's public profile in the platform's shop directory (`directory/shops`).
    The shop opts in with `listed`; only listed, active shops with a location are shown.

    The table also has a `location geography(Point, 4326)` column that PostgreSQL
    generates from latitude and longitude (migration 0005), with a GiST index: the
    nearby query reads it in raw SQL (tenants.selectors.directory_nearby), so the ORM
    needs no GIS backend (django.contrib.gis would bring in GDAL for nothing).
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, primary_key=True, related_name="directory")
    listed = models.BooleanField(default=False)
    description = models.TextField(blank=True, max_length=2000)
    address = models.CharField(max_length=300, blank=True)
    # Decimal degrees; six places are about 0.1 m, more than a shop front needs.
    latitude = models.DecimalField(max_digits=8, decimal_places=6, null=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True)
    categories = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    pickup = models.BooleanField(default=False, help_text="Shoppers can collect orders at the address.")
    opening_hours = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90), name="directory_latitude_range"
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__gte=-180, longitude__lte=180), name="directory_longitude_range"
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="directory_location_whole",
            ),
            models.CheckConstraint(
                condition=models.Q(listed=False) | models.Q(latitude__isnull=False),
                name="directory_listed_located",
            ),
        ]

    def __str__(self) -> str:
        return f"directory profile of {self.shop_id}"
