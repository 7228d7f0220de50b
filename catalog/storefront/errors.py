"""Storefront theme refusals: each a DomainError with a stable code and the HTTP status it answers with."""

from enum import StrEnum

from tenants.errors import DomainError


class StorefrontErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    THEME_INVALID = "theme_invalid"
    THEME_IMAGE_REFUSED = "theme_image_refused"


class PageNotFound(DomainError):
    status = 404
    code = StorefrontErrorCode.NOT_FOUND
    title = "Not found"


class ThemeInvalid(DomainError):
    status = 400
    code = StorefrontErrorCode.THEME_INVALID
    title = "Theme not saved"


class ThemeImageRefused(DomainError):
    status = 400
    code = StorefrontErrorCode.THEME_IMAGE_REFUSED
    title = "Image refused"
