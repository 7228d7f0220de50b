from collections.abc import Iterator

import pytest
from django.conf import settings

from billing import selectors
from tenants.keys import redis_client


@pytest.fixture(autouse=True)
def _fresh_limits_cache() -> Iterator[None]:
    selectors.shop_plan_limits_forget()
    yield
    selectors.shop_plan_limits_forget()


@pytest.fixture(autouse=True)
def _no_api_call_counts() -> None:
    """Shops of earlier tests had the same schema names: start each test with no API calls counted."""
    client = redis_client()
    for key in client.scan_iter(match=f"*:{settings.BILLING_REDIS_NAMESPACE}:*", count=1000):
        client.delete(key)
