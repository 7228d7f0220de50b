"""Webhook refusals: each a DomainError with a stable code and the HTTP status it answers with."""

from enum import StrEnum

from tenants.errors import DomainError


class WebhooksErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    URL_REFUSED = "webhook_url_refused"
    ENDPOINT_LIMIT = "webhook_endpoint_limit"
    DELIVERY_IN_FLIGHT = "webhook_delivery_in_flight"


class WebhookNotFound(DomainError):
    status = 404
    code = WebhooksErrorCode.NOT_FOUND
    title = "Not found"


class WebhookUrlRefused(DomainError):
    status = 400
    code = WebhooksErrorCode.URL_REFUSED
    title = "Webhook URL refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors={"url": [detail]})


class EndpointLimitReached(DomainError):
    status = 409
    code = WebhooksErrorCode.ENDPOINT_LIMIT
    title = "Too many webhook endpoints"


class DeliveryInFlight(DomainError):
    status = 409
    code = WebhooksErrorCode.DELIVERY_IN_FLIGHT
    title = "Delivery attempt in progress"
