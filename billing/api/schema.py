"""OpenAPI pieces other apps' endpoints use to document billing's refusals."""

from drf_spectacular.utils import OpenApiResponse

PLAN_LIMIT = OpenApiResponse(
    description="A limit of the shop's plan would be crossed (the problem's `limit` and `plan` name it); "
    "upgrade the plan to go on."
)
