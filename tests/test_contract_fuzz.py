"""
The documents and the server agree under Schemathesis's own CLI (issue 15), run as
an integrator would: against a live gunicorn, every check (`--checks all`: server
errors, status codes, content types, response schemas and headers, schema-valid
requests accepted and invalid ones refused, unsupported methods answered 405 with
`Allow`, auth enforced, resources usable after create and gone after delete), and
the stateful phase following the documents' OpenAPI links (create → read →
update → delete; cart → items → checkout), signed in as the shop's owner and as
an API key, on both documents.

`make test` runs a bounded budget (FUZZ_MAX_EXAMPLES, default 10 a phase and
operation); `make fuzz` the long run whose figures are in the README. FUZZ_ST_ARGS
adds options to `st run` (say, `--include-path-regex api-keys` to replay one area).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tenants import services
from tenants.models import ApiKey, Shop, User
from tenants.schemas import use_public
from tests.conftest import ShopContext, committed_shop_drop
from tests.e2e.test_browser_flow import LiveServer

BASE_DIR = Path(settings.BASE_DIR)
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
SEED = os.environ.get("FUZZ_SEED", "20261204")
RUNS = ["platform-owner", "shop-owner", "shop-api-key"]
ARTIFACTS = BASE_DIR / "test-artifacts" / "fuzz"


class FuzzServer(LiveServer):
    def env(self) -> dict[str, str]:
        return {
            **super().env(),
            # The fuzzer sends thousands of requests a minute; the budgets are tested elsewhere.
            "RATE_LIMIT_ADMIN_PER_MINUTE": "10000000",
            "RATE_LIMIT_STOREFRONT_PER_MINUTE": "10000000",
            "RATE_LIMIT_CHECKOUT_PER_MINUTE": "10000000",
            "CELERY_TASK_ALWAYS_EAGER": "1",  # no worker here: thumbnails and e-mails run in the request
            "WEBHOOK_ALLOW_PRIVATE_URLS": "0",
        }


@pytest.fixture
def fuzz_server(committed_shop: ShopContext, django_db_blocker, tmp_path: Path) -> Iterator[FuzzServer]:
    """
    gunicorn serving the committed shop (whose fixture removes it afterwards); the
    users and shops the fuzzer signs up and creates are removed here, so the rest of
    the run sees the database it expects.
    """
    server = FuzzServer(tmp_path)
    with django_db_blocker.unblock():
        use_public()
        users_before = set(User.objects.values_list("pk", flat=True))
        shops_before = set(Shop.objects.values_list("pk", flat=True))
        connection.close()  # the servers get the database to themselves
        try:
            server.start(
                "gunicorn",
                [str(BASE_DIR / ".venv" / "bin" / "gunicorn"), "config.wsgi"]
                + ["--bind", f"127.0.0.1:{server.port}", "--workers", "2", "--timeout", "120"],
            )
            server.wait_ready()
            yield server
        finally:
            server.stop()
            use_public()
            for shop in Shop.objects.exclude(pk__in=shops_before):
                committed_shop_drop(shop)
            User.objects.exclude(pk__in=users_before).delete()
            connection.close()


def _document(server: LiveServer, host: str, path: Path) -> Path:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/api/schema/", headers={"Host": host, "Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        path.write_bytes(json.dumps(json.loads(answer.read())).encode())
    return path


@pytest.mark.parametrize("run", RUNS)
def test_schemathesis_finds_no_failure(
    committed_shop: ShopContext, fuzz_server: FuzzServer, django_db_blocker, tmp_path: Path, run: str
) -> None:
    server, ctx = fuzz_server, committed_shop
    document, credentials = run.split("-", 1)
    host = settings.PLATFORM_HOST if document == "platform" else ctx.host
    with django_db_blocker.unblock():
        if credentials == "api-key":
            _api_key, key = services.api_key_create(
                shop=ctx.shop, name="fuzz", scopes=ApiKey.Scope.values, created_by=ctx.owner
            )
            authorization = f"Api-Key {key}"
        else:
            authorization = f"Bearer {_long_lived_token(ctx)}"
        connection.close()
    schema = _document(server, host, tmp_path / f"{run}.json")
    command = [
        str(BASE_DIR / ".venv" / "bin" / "st"),
        "run",
        str(schema),
        "--url",
        f"http://127.0.0.1:{server.port}",
        "--header",
        f"Host: {host}",
        "--header",
        f"Authorization: {authorization}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        # One worker: hypothesis reads lambdas' source with `ast`, which Python 3.11 does not
        # guard across threads ("AST constructor recursion depth mismatch").
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--generation-database",
        "none",
        "--no-color",
    ]
    command += shlex.split(os.environ.get("FUZZ_ST_ARGS", ""))  # e.g. --include-path-regex api-keys
    env = {**os.environ, "PYTHONPATH": str(BASE_DIR)}  # schemathesis.toml's hooks: tests.fuzz_hooks
    result = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=3600)
    # The whole report (every failure with its curl line) is kept; the summary is printed.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{run}.txt").write_text(result.stdout + result.stderr)
    summary = result.stdout[result.stdout.rfind("SUMMARY") - 40 :]
    print(summary)
    assert result.returncode == 0, (
        f"schemathesis found failures ({run}); the report is in {ARTIFACTS / f'{run}.txt'}:\n{summary}"
    )


def _long_lived_token(ctx: ShopContext) -> str:
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(ctx.owner)
    token.set_exp(lifetime=timedelta(hours=2))  # `make fuzz` runs longer than the default 15 minutes
    return str(token)
