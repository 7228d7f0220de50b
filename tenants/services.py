"""Writes in the public schema: sign-up, shop provisioning, API keys."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants import hooks, provisioning, routing
from tenants.api_keys import api_key_generate
from tenants.audit.models import AuditEntry
from tenants.audit.services import Actor, audit_record
from tenants.errors import (
    AlreadyAMember,
    ConfirmationMismatch,
    DirectoryLocationMissing,
    DomainError,
    DomainInvalid,
    DomainLimit,
    DomainPrimary,
    DomainReserved,
    DomainTaken,
    EmailTaken,
    ExportInProgress,
    LastOwner,
    NotAllowed,
    ShopDeleting,
    SlugInvalid,
    SlugReserved,
    SlugTaken,
    UserNotFound,
)
from tenants.models import ApiKey, DirectoryProfile, Domain, Membership, Shop, ShopExport, User
from tenants.money import CURRENCY_EXPONENTS
from tenants.schemas import use_public, use_shop

logger = logging.getLogger(__name__)

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")
# Subdomains that mean something else, or that a phisher would like to own.
RESERVED_SLUGS = frozenset(
    ["www", "api", "admin", "app", "apps", "public", "static", "media", "assets", "cdn", "mail"]
    + ["email", "smtp", "ftp", "docs", "help", "support", "status", "billing", "platform", "dashboard"]
    + ["login", "signup", "auth", "account", "accounts", "shop", "shops", "store", "stores"]
    + ["storefleet", "template", "spare", "root", "system", "internal", "test"]
)


def user_signup(*, email: str, password: str, name: str = "") -> User:
    """Create a platform user, checking the password against Django's validators."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email=email).exists():
        raise EmailTaken(f"An account with {email} already exists.")
    candidate = User(email=email, name=name)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise DomainError("The password is too weak.", errors={"password": list(exc.messages)}) from exc
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, name=name)
    except IntegrityError:
        raise EmailTaken(f"An account with {email} already exists.") from None


def slug_check(slug: str) -> None:
    """Raise unless `slug` is 3–40 of `a-z0-9-`, not reserved and not taken."""
    if not SLUG_PATTERN.match(slug) or "--" in slug:
        raise SlugInvalid(
            "A slug is 3 to 40 characters of a-z, 0-9 and single hyphens, not starting or ending with one.",
            errors={"slug": ["Use 3 to 40 characters of a-z, 0-9 and hyphens."]},
        )
    if slug in RESERVED_SLUGS:
        raise SlugReserved(f"{slug!r} is reserved.", errors={"slug": [f"{slug!r} is reserved."]})
    if Shop.objects.filter(slug=slug).exists():
        raise SlugTaken(f"The slug {slug!r} is taken.", errors={"slug": [f"{slug!r} is taken."]})


def shop_create(*, owner: User, name: str, slug: str, currency: str = "USD", plan: str | None = None) -> Shop:
    """
    Provision a shop in one transaction: its schema (a warm-pool spare renamed,
    or a template clone), the shop row, its primary domain, the owner's membership
    and, through the `shop_provisioned` hooks, its subscription to `plan` (billing
    picks the default plan when it is None and refuses an unknown one).
    """
    slug_check(slug)
    if currency not in CURRENCY_EXPONENTS:
        raise DomainError(
            f"Unknown currency {currency!r}.", errors={"currency": ["Not a supported currency."]}
        )
    schema_name = provisioning.schema_name_for_slug(slug)
    with transaction.atomic():
        # Racing sign-ups for one slug queue here, so the loser sees the winner's
        # row instead of colliding on a schema name half-way through.
        provisioning.slug_lock(slug)
        if Shop.objects.filter(slug=slug).exists():
            raise SlugTaken(f"The slug {slug!r} is taken.", errors={"slug": [f"{slug!r} is taken."]})
        took_spare = provisioning.spare_claim(schema_name)
        if not took_spare:
            provisioning.template_clone(schema_name)
        shop = Shop(schema_name=schema_name, slug=slug, name=name, currency=currency)
        shop.save()
        domain = Domain.objects.create(
            domain=f"{slug}.{settings.SHOP_BASE_DOMAIN}", tenant=shop, is_primary=True
        )
        Membership.objects.create(user=owner, shop=shop, role=Membership.Role.OWNER)
        hooks.shop_provisioned(shop=shop, owner=owner, options={"plan": plan})
        transaction.on_commit(lambda: routing.host_cache_forget(domain.domain))
        transaction.on_commit(_warm_pool_refill_soon)
    return shop


def shop_update(
    *,
    shop: Shop,
    by: Membership,
    name: str | None = None,
    currency: str | None = None,
    directory: dict[str, Any] | None = None,
) -> Shop:
    """
    Change a shop's settings (owners and admins). `directory` holds the fields of
    the shop's directory profile to change; the others keep their values.
    """
    if by.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        raise NotAllowed("Only the shop's owners and admins can change its settings.")
    changed = []
    if name is not None and name != shop.name:
        shop.name = name
        changed.append("name")
    if currency is not None and currency != shop.currency:
        shop.currency = currency
        changed.append("currency")
    with transaction.atomic():
        if directory:
            _directory_profile_change(shop=shop, fields=directory)
        if changed:
            shop.save(update_fields=changed)
            hooks.shop_updated(shop=shop, changed=changed)
            transaction.on_commit(lambda: routing.shop_hosts_forget(shop))
    return shop


DIRECTORY_FIELDS = frozenset(
    {"listed", "description", "address", "latitude", "longitude", "categories", "pickup", "opening_hours"}
)


def _directory_profile_change(*, shop: Shop, fields: dict[str, Any]) -> DirectoryProfile:
    """Apply `fields` to the shop's directory profile (made on first use), inside the caller's transaction."""
    unknown = set(fields) - DIRECTORY_FIELDS
    if unknown:
        raise ValueError(f"not directory profile fields: {sorted(unknown)}")
    # The shop's row is the lock: two first edits at once would both insert a profile.
    Shop.objects.select_for_update(no_key=True).filter(pk=shop.pk).exists()
    profile = DirectoryProfile.objects.filter(shop=shop).first()
    if profile is None:
        profile = DirectoryProfile(shop=shop)
    for field, value in fields.items():
        if field == "categories":
            value = list(dict.fromkeys(value))  # the first of each, in the merchant's order
        setattr(profile, field, value)
    if (profile.latitude is None) != (profile.longitude is None):
        missing = "latitude" if profile.latitude is None else "longitude"
        raise DomainError(
            "A location needs both latitude and longitude.",
            errors={f"directory.{missing}": ["Send latitude and longitude together (or both null)."]},
        )
    if profile.listed and profile.latitude is None:
        raise DirectoryLocationMissing(
            "A shop is listed in the directory at its location: send latitude and longitude.",
            errors={"directory.listed": ["Set latitude and longitude first (or in the same request)."]},
        )
    profile.save()
    return profile


MANAGERS = (Membership.Role.OWNER, Membership.Role.ADMIN)


def members_lock(shop: Shop) -> None:
    """Queue membership changes of one shop, so seat limits and the last-owner rule hold under races."""
    Shop.objects.select_for_update(no_key=True).filter(pk=shop.pk).exists()


def membership_add(*, shop: Shop, by: Membership, email: str, role: str) -> Membership:
    """
    Give a platform user (by e-mail) a role in the shop. Owners and admins add
    members; only owners make owners. The `membership_adding` hooks run first
    (billing refuses a seat beyond the plan with a 402).
    """
    if by.role not in MANAGERS:
        raise NotAllowed("Only the shop's owners and admins can add members.")
    if role not in Membership.Role.values:
        raise DomainError(f"Unknown role {role!r}.", errors={"role": ["Choose owner, admin or staff."]})
    if role == Membership.Role.OWNER and by.role != Membership.Role.OWNER:
        raise NotAllowed("Only owners can make someone an owner.")
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        raise UserNotFound(
            f"No Storefleet account uses {email}; ask them to sign up first.",
            errors={"email": ["No account with this e-mail."]},
        )
    with transaction.atomic():
        members_lock(shop)
        if Membership.objects.filter(shop=shop, user=user).exists():
            raise AlreadyAMember(f"{email} is already a member of this shop.")
        hooks.membership_adding(shop=shop, role=role)
        return Membership.objects.create(shop=shop, user=user, role=role)


def membership_remove(*, shop: Shop, by: Membership, membership: Membership) -> None:
    """Remove a member (owners and admins; only owners remove owners); the last owner stays."""
    if by.role not in MANAGERS:
        raise NotAllowed("Only the shop's owners and admins can remove members.")
    if membership.role == Membership.Role.OWNER and by.role != Membership.Role.OWNER:
        raise NotAllowed("Only owners can remove an owner.")
    with transaction.atomic():
        members_lock(shop)
        current = Membership.objects.filter(pk=membership.pk, shop=shop).first()
        if current is None:
            return
        owners = Membership.objects.filter(shop=shop, role=Membership.Role.OWNER).count()
        if current.role == Membership.Role.OWNER and owners <= 1:
            raise LastOwner("The shop's last owner cannot be removed; make another member owner first.")
        current.delete()


def _warm_pool_refill_soon() -> None:
    from tenants.tasks import warm_pool_refill

    try:
        warm_pool_refill.delay()
    except Exception:
        # The shop exists already; a broker outage must not fail its creation.
        # Beat refills the pool every minute anyway.
        logger.warning("Could not queue a warm-pool refill", exc_info=True)


def api_key_create(
    *, shop: Shop, name: str, scopes: Iterable[str], created_by: User | None
) -> tuple[ApiKey, str]:
    """Create an API key; return it and the full key, which is never shown again."""
    scopes = sorted(set(scopes))
    unknown = [scope for scope in scopes if scope not in ApiKey.Scope.values]
    if unknown or not scopes:
        raise DomainError(
            "Unknown or missing scopes.",
            errors={"scopes": [f"Choose from: {', '.join(ApiKey.Scope.values)}."]},
        )
    key, prefix, secret_hash = api_key_generate()
    api_key = ApiKey.objects.create(
        shop=shop, name=name, prefix=prefix, secret_hash=secret_hash, scopes=scopes, created_by=created_by
    )
    return api_key, key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key at once; revoking twice keeps the first revocation time."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


# --- Lifecycle: suspension, export, deletion -------------------------------------------


def _user_actor(user: User) -> Actor:
    return Actor(type=AuditEntry.ActorType.USER, id=user.pk, label=user.email)


def audit_in_shop(
    shop: Shop, *, by: User, action: str, before: dict[str, str], after: dict[str, str]
) -> None:
    """Write the change into the shop's own audit log, where its merchants see it."""
    use_shop(shop)
    try:
        audit_record(
            actor=_user_actor(by),
            action=action,
            object_type="shop",
            object_id=shop.pk,
            before=before,
            after=after,
        )
    finally:
        use_public()


def _shop_locked(shop: Shop) -> Shop:
    return Shop.objects.select_for_update().get(pk=shop.pk)


def _status_set(*, shop: Shop, by: User, status: str, action: str) -> Shop:
    if not by.is_staff:
        raise NotAllowed("Only platform staff can suspend or reactivate shops.")
    with transaction.atomic():
        shop = _shop_locked(shop)
        if shop.status == Shop.Status.DELETING:
            raise ShopDeleting("This shop is being deleted.")
        if shop.status != status:
            before = shop.status
            shop.status = status
            shop.save(update_fields=["status"])
            audit_in_shop(shop, by=by, action=action, before={"status": before}, after={"status": status})
            logger.info("Shop %s %s by %s", shop.slug, action, by.email)
            transaction.on_commit(lambda: routing.shop_hosts_forget(shop))
    return shop


def shop_suspend(*, shop: Shop, by: User) -> Shop:
    """Suspend a shop (platform staff): its storefront answers 503 everywhere at once; its Admin API works."""
    return _status_set(shop=shop, by=by, status=Shop.Status.SUSPENDED, action="shop.suspended")


def shop_reactivate(*, shop: Shop, by: User) -> Shop:
    """Lift a suspension (platform staff)."""
    return _status_set(shop=shop, by=by, status=Shop.Status.ACTIVE, action="shop.reactivated")


def _owner_check(by: Membership, action: str) -> None:
    if by.role != Membership.Role.OWNER:
        raise NotAllowed(f"Only the shop's owners can {action}.")


def shop_export_request(*, shop: Shop, by: Membership) -> ShopExport:
    """Queue an export of all the shop's data (owners); one at a time per shop."""
    _owner_check(by, "export it")
    with transaction.atomic():
        shop = _shop_locked(shop)
        if shop.status == Shop.Status.DELETING:
            raise ShopDeleting("This shop is being deleted.")
        running = ShopExport.objects.filter(
            shop=shop, status__in=[ShopExport.Status.PENDING, ShopExport.Status.RUNNING]
        ).first()
        if running is not None:
            raise ExportInProgress(f"Export {running.pk} of this shop is still {running.status}.")
        export = ShopExport.objects.create(shop=shop, schema_name=shop.schema_name, requested_by=by.user)
        transaction.on_commit(lambda: _task_queue("tenants.tasks.shop_export_run", str(export.pk)))
    return export


def shop_delete_request(*, shop: Shop, by: Membership, confirm: str) -> ShopExport:
    """
    Delete a shop (owners), confirmed by its slug: it is unreachable at once; a
    worker exports its data, then removes its schema, domains, memberships, Redis
    keys and files. Returns the final export; asking twice returns the same one.
    """
    _owner_check(by, "delete it")
    if confirm != shop.slug:
        raise ConfirmationMismatch(
            "Confirm the deletion with the shop's slug.",
            errors={"confirm": [f"Type the shop's slug ({shop.slug}) to confirm."]},
        )
    with transaction.atomic():
        shop = _shop_locked(shop)
        if shop.status == Shop.Status.DELETING:
            return ShopExport.objects.filter(shop=shop, reason=ShopExport.Reason.DELETION).latest(
                "created_at"
            )
        before = shop.status
        shop.status = Shop.Status.DELETING
        shop.save(update_fields=["status"])
        audit_in_shop(
            shop,
            by=by.user,
            action="shop.deletion_requested",
            before={"status": before},
            after={"status": "deleting"},
        )
        export = ShopExport.objects.create(
            shop=shop, schema_name=shop.schema_name, requested_by=by.user, reason=ShopExport.Reason.DELETION
        )
        logger.info("Shop %s deletion requested by %s", shop.slug, by.user.email)
        transaction.on_commit(lambda: routing.shop_hosts_forget(shop))
        transaction.on_commit(lambda: _task_queue("tenants.tasks.shop_delete_run", str(export.pk)))
    return export


def _task_queue(name: str, export_id: str) -> None:
    from tenants import tasks

    getattr(tasks, name.rsplit(".", 1)[-1]).delay(export_id)


# --- Custom domains ------------------------------------------------------------------

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def hostname_normalize(value: str) -> str:
    """Return a hostname in its lower-case ASCII (punycode) form; DomainInvalid if it is not one."""
    invalid = DomainInvalid(
        f"{value[:100]!r} is not a hostname.",
        errors={"domain": ["Enter a hostname such as shop.example.com."]},
    )
    name = value.strip().lower().rstrip(".")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise invalid from None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise invalid
    top = labels[-1]
    if not (top.isalpha() or top.startswith("xn--")):
        raise invalid  # IP addresses and numeric top-level domains are not shop domains
    return name


def _hostname_reserved(name: str) -> bool:
    platform = {settings.PLATFORM_HOST, settings.SHOP_BASE_DOMAIN, *settings.RESERVED_HOSTNAMES}
    if name in platform:
        return True
    # Names under the platform's own domains belong to the platform (shops get {slug}.<base> there).
    return any(name.endswith(f".{parent}") for parent in platform)


def domain_add(*, shop: Shop, by: Membership, domain: str) -> Domain:
    """Route a custom hostname to the shop (owners and admins); a hostname routes to one shop only."""
    if by.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        raise NotAllowed("Only the shop's owners and admins can change its domains.")
    name = hostname_normalize(domain)
    if _hostname_reserved(name):
        raise DomainReserved(f"{name} belongs to the platform.", errors={"domain": [f"{name} is reserved."]})
    with transaction.atomic():
        shop = _shop_locked(shop)
        if Domain.objects.filter(tenant=shop).count() >= settings.SHOP_MAX_DOMAINS:
            raise DomainLimit(f"A shop can have at most {settings.SHOP_MAX_DOMAINS} domains.")
        if Domain.objects.filter(domain=name).exists():
            raise DomainTaken(f"{name} is already in use.", errors={"domain": [f"{name} is already in use."]})
        try:
            with transaction.atomic():
                created = Domain.objects.create(domain=name, tenant=shop, is_primary=False)
        except IntegrityError:
            raise DomainTaken(
                f"{name} is already in use.", errors={"domain": [f"{name} is already in use."]}
            ) from None
        audit_in_shop(shop, by=by.user, action="domain.added", before={}, after={"domain": name})
        transaction.on_commit(lambda: routing.host_cache_forget(name))  # it may be cached as unknown
    return created


def domain_remove(*, shop: Shop, by: Membership, domain: Domain) -> None:
    """Stop routing a custom hostname to the shop (owners and admins); the primary one stays."""
    if by.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        raise NotAllowed("Only the shop's owners and admins can change its domains.")
    if domain.is_primary:
        raise DomainPrimary("The shop's primary domain cannot be removed.")
    name = domain.domain
    with transaction.atomic():
        domain.delete()
        audit_in_shop(shop, by=by.user, action="domain.removed", before={"domain": name}, after={})
        transaction.on_commit(lambda: routing.host_cache_forget(name))
