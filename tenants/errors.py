"""
Domain errors: every app raises subclasses of `DomainError`, each carrying a
stable code and the HTTP status the API answers it with. The problem formatter
(tenants.conventions.problems) turns them into RFC 9457 responses.
"""

from __future__ import annotations

from enum import StrEnum


class DomainError(Exception):
    """Base of every error a service raises for the API layer to report."""

    status: int = 400
    code: str = "invalid"
    title: str = "Bad request"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors

    @property
    def extensions(self) -> dict[str, object]:
        """Extra members of the problem body (e.g. the limit a 402 names); none by default."""
        return {}


class TenantsErrorCode(StrEnum):
    SLUG_INVALID = "slug_invalid"
    SLUG_RESERVED = "slug_reserved"
    SLUG_TAKEN = "slug_taken"
    EMAIL_TAKEN = "email_taken"
    NOT_A_MEMBER = "not_a_member"
    SHOP_NOT_FOUND = "shop_not_found"
    PROVISIONING_FAILED = "provisioning_failed"
    SHOP_DELETING = "shop_deleting"
    EXPORT_IN_PROGRESS = "export_in_progress"
    CONFIRMATION_MISMATCH = "confirmation_mismatch"
    DOMAIN_INVALID = "domain_invalid"
    DOMAIN_RESERVED = "domain_reserved"
    DOMAIN_TAKEN = "domain_taken"
    DOMAIN_PRIMARY = "domain_primary"
    DOMAIN_LIMIT = "domain_limit"
    USER_NOT_FOUND = "user_not_found"
    ALREADY_A_MEMBER = "already_a_member"
    LAST_OWNER = "last_owner"
    BACKUP_INVALID = "backup_invalid"
    LINK_INVALID = "link_invalid"
    INVITATION_CLOSED = "invitation_closed"
    PASSWORD_INCORRECT = "password_incorrect"
    DIRECTORY_LOCATION_MISSING = "directory_location_missing"


class SlugInvalid(DomainError):
    status = 400
    code = TenantsErrorCode.SLUG_INVALID
    title = "Invalid shop slug"


class SlugReserved(DomainError):
    status = 400
    code = TenantsErrorCode.SLUG_RESERVED
    title = "Reserved shop slug"


class SlugTaken(DomainError):
    status = 409
    code = TenantsErrorCode.SLUG_TAKEN
    title = "Shop slug already taken"


class EmailTaken(DomainError):
    status = 409
    code = TenantsErrorCode.EMAIL_TAKEN
    title = "E-mail already registered"


class ShopNotFound(DomainError):
    status = 404
    code = TenantsErrorCode.SHOP_NOT_FOUND
    title = "Shop not found"


class ProvisioningFailed(DomainError):
    status = 503
    code = TenantsErrorCode.PROVISIONING_FAILED
    title = "Shop could not be provisioned"


class ResourceNotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class NotAllowed(DomainError):
    status = 403
    code = "not_allowed"
    title = "Not allowed"


class ShopDeleting(DomainError):
    status = 409
    code = TenantsErrorCode.SHOP_DELETING
    title = "Shop is being deleted"


class ExportInProgress(DomainError):
    status = 409
    code = TenantsErrorCode.EXPORT_IN_PROGRESS
    title = "An export is already running"


class ConfirmationMismatch(DomainError):
    status = 400
    code = TenantsErrorCode.CONFIRMATION_MISMATCH
    title = "Confirmation does not match"


class DomainInvalid(DomainError):
    status = 400
    code = TenantsErrorCode.DOMAIN_INVALID
    title = "Invalid domain"


class DomainReserved(DomainError):
    status = 400
    code = TenantsErrorCode.DOMAIN_RESERVED
    title = "Reserved domain"


class DomainTaken(DomainError):
    status = 409
    code = TenantsErrorCode.DOMAIN_TAKEN
    title = "Domain already in use"


class DomainPrimary(DomainError):
    status = 409
    code = TenantsErrorCode.DOMAIN_PRIMARY
    title = "Primary domain"


class DomainLimit(DomainError):
    status = 409
    code = TenantsErrorCode.DOMAIN_LIMIT
    title = "Too many domains"


class UserNotFound(DomainError):
    status = 400
    code = TenantsErrorCode.USER_NOT_FOUND
    title = "No such platform user"


class AlreadyAMember(DomainError):
    status = 409
    code = TenantsErrorCode.ALREADY_A_MEMBER
    title = "Already a member"


class LastOwner(DomainError):
    status = 409
    code = TenantsErrorCode.LAST_OWNER
    title = "A shop needs an owner"


class BackupInvalid(DomainError):
    """A shop backup cannot be taken or restored here (see the detail)."""

    status = 400
    code = TenantsErrorCode.BACKUP_INVALID
    title = "The backup cannot be used"


class LinkInvalid(DomainError):
    """An e-mailed link's token is forged, used, superseded or past its time."""

    status = 400
    code = TenantsErrorCode.LINK_INVALID
    title = "The link is not valid"


class InvitationClosed(DomainError):
    """The invitation was accepted or revoked: it cannot be sent again or revoked now."""

    status = 409
    code = TenantsErrorCode.INVITATION_CLOSED
    title = "The invitation is closed"


class PasswordIncorrect(DomainError):
    status = 400
    code = TenantsErrorCode.PASSWORD_INCORRECT
    title = "Wrong password"


class DirectoryLocationMissing(DomainError):
    """A shop asked to be listed in the directory without a location to list it at."""

    status = 400
    code = TenantsErrorCode.DIRECTORY_LOCATION_MISSING
    title = "A listed shop needs a location"
