"""
The Citus suite runs by hand (`make test-citus`, tests/citus/README.md), against the
coordinator of a Citus cluster with two workers named by CITUS_URL. Without it,
nothing here is collected, so `make test` and CI never try.

It uses that database as it is (no test database is created: the extension and the
workers are set up per database), migrates it and fills the warm pool, and every
test commits what it makes and removes it afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

collect_ignore_glob = [] if os.environ.get("CITUS_URL") else ["test_*.py"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker) -> Iterator[None]:
    from django.core.management import call_command
    from django.db import connection

    from tenants import provisioning
    from tenants.placement import workers
    from tests.conftest import TEST_POOL_SIZE

    assert os.environ.get("DATABASE_URL") == os.environ["CITUS_URL"], "run it as make test-citus"
    with django_db_blocker.unblock():
        assert len(workers()) >= 2, "the suite needs a coordinator with two workers"
        with connection.cursor() as cursor:
            cursor.execute("SHOW citus.enable_schema_based_sharding")
            assert cursor.fetchone()[0] == "on", "set citus.enable_schema_based_sharding = on"
        call_command("migrate_schemas", interactive=False, verbosity=0)
        provisioning.warm_pool_fill(size=TEST_POOL_SIZE)
    yield


@pytest.fixture(autouse=True)
def _quiet_request_log() -> Iterator[None]:
    """The suite prints its figures (-s); one log line per request under load would bury them."""
    import logging

    loggers = [logging.getLogger(name) for name in ("storefleet.request", "celery.app.trace")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)
