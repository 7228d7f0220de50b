"""
Deprecating an operation (docs/api.md, "Versioning and deprecation"): a view sets
`deprecation = Deprecation(since=..., sunset=...)`; its answers carry
`Deprecation` (RFC 9745), `Sunset` (RFC 8594) and a `Link` to the changelog, and
its operations are `deprecated: true` in the OpenAPI documents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.http import http_date

CHANGELOG_URL = "https://storefleet.dev/changelog"


@dataclass(frozen=True, slots=True)
class Deprecation:
    since: dt.date
    sunset: dt.date
    link: str = CHANGELOG_URL

    def headers(self) -> dict[str, str]:
        since = dt.datetime.combine(self.since, dt.time(), tzinfo=dt.UTC)
        sunset = dt.datetime.combine(self.sunset, dt.time(), tzinfo=dt.UTC)
        return {
            "Deprecation": f"@{int(since.timestamp())}",
            "Sunset": http_date(sunset.timestamp()),
            "Link": f'<{self.link}>; rel="deprecation"',
        }
