from collections.abc import Iterator

import pytest

from billing import selectors


@pytest.fixture(autouse=True)
def _fresh_limits_cache() -> Iterator[None]:
    selectors.shop_plan_limits_forget()
    yield
    selectors.shop_plan_limits_forget()
