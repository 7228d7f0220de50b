"""
docker/: the compose file parses and hangs together (services, health checks,
dependencies, build targets, the environment the app reads), the image runs as
a non-root user, and nginx accepts the edge configuration (when nginx is
installed here; Docker itself is not needed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from tests.net import free_port

DOCKER = Path(settings.BASE_DIR) / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
APP_SERVICES = {"web", "worker", "webhook-worker", "beat", "migrate"}
LONG_RUNNING = {"postgres", "redis", "pgbouncer", "web", "worker", "webhook-worker", "beat", "edge"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def stage_names() -> set[str]:
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", DOCKERFILE.read_text(), flags=re.MULTILINE | re.I))


def test_the_compose_file_has_every_service_with_a_health_check(compose) -> None:
    services = compose["services"]
    assert LONG_RUNNING | {"migrate"} <= set(services)
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
        assert services[name].get("restart") == "unless-stopped", name


def test_dependencies_wait_for_health_or_completion(compose) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            if condition["condition"] == "service_healthy":
                assert services[dependency].get("healthcheck", {}).get("test"), (name, dependency)
            else:
                assert condition["condition"] == "service_completed_successfully"
                assert services[dependency].get("restart") == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["edge"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_built_services_use_stages_of_the_dockerfile(compose) -> None:
    stages = stage_names()
    assert {"spa", "deps", "app", "edge", "pgbouncer"} <= stages
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            assert build["context"] == ".." and build["dockerfile"] == "docker/Dockerfile", name
            assert build["target"] in stages, name
            assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_the_app_runs_gunicorn_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text()
    app = text.split(" AS app", 1)[1].split("\nFROM ", 1)[0]
    users = re.findall(r"^USER\s+(\S+)", app, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert 'CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]' in app
    assert "python:3.11-slim" in text
    # Every file the Dockerfile copies from the repository exists.
    for source in re.findall(r"^COPY\s+(?:--\S+\s+)*(docker/\S+)\s", text, flags=re.MULTILINE):
        assert (Path(settings.BASE_DIR) / source).exists(), source


def test_every_app_setting_in_compose_is_one_the_app_reads(compose) -> None:
    code = "".join(
        path.read_text()
        for path in [Path(settings.BASE_DIR) / "config" / name for name in ("settings.py", "gunicorn.py")]
        + [Path(settings.BASE_DIR) / "config" / "celery.py"]
    )
    read = set(
        re.findall(r"""(?:environ(?:\.get)?[\[(]|env_(?:int|bool)\(|setdefault\()\s*["'](\w+)["']""", code)
    )
    read |= {
        "DJANGO_SETTINGS_MODULE",
        "PROMETHEUS_MULTIPROC_DIR",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        unknown = set(environment) - read
        assert not unknown, (name, unknown)
        assert environment["DATABASE_URL"].split("@", 1)[1].startswith("pgbouncer:6432/")
        assert environment["REDIS_URL"].startswith("redis://redis:6379/")
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert environment["LOG_FORMAT"] == "json"
    assert compose["services"]["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp")
    assert compose["services"]["worker"]["environment"]["WORKER_METRICS_PORT"] == "9808"


def test_only_the_edge_is_published(compose) -> None:
    for name, service in compose["services"].items():
        assert bool(service.get("ports")) == (name == "edge"), name


def edge_config(
    tmp_path: Path, *, upstream: str = "127.0.0.1:8000", live: str = "127.0.0.1:8002", port: int | None = None
) -> Path:
    """The edge configuration as a standalone nginx.conf under `tmp_path`, for `upstream` (and `live`)."""
    edge = (DOCKER / "nginx" / "edge.conf").read_text()
    # `web` and `live` only resolve inside compose's network; the ports only bind as root.
    edge = edge.replace("server web:8000", f"server {upstream}")
    edge = edge.replace("server live:8000", f"server {live}")
    edge = re.sub(
        r"listen 80 default_server;", f"listen 127.0.0.1:{port or free_port()} default_server;", edge
    )
    edge = re.sub(r"listen \[::\]:80 default_server;", "", edge)
    edge = edge.replace("/var/cache/nginx/storefront", str(tmp_path / "cache"))
    (tmp_path / "edge.conf").write_text(edge)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"""
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/error.log;
        # Tests run as root: the workers keep root's rights over the temporary directories.
        user root;
        events {{}}
        http {{
            include /etc/nginx/mime.types;
            client_body_temp_path {tmp_path}/body;
            proxy_temp_path {tmp_path}/proxy;
            include {tmp_path}/edge.conf;
        }}
        """
    )
    return conf


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (Debian: nginx-light)")
def test_nginx_accepts_the_edge_configuration(tmp_path: Path) -> None:
    conf = edge_config(tmp_path)
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_live_streams_have_an_asgi_service_behind_the_edge(compose) -> None:
    services = compose["services"]
    assert services["live"]["command"][:2] == ["uvicorn", "config.asgi:application"]
    assert "live" in services["edge"]["depends_on"]
    edge = (DOCKER / "nginx" / "edge.conf").read_text()
    assert "location ~ ^/api/(admin/v1/live|storefront/v1/orders/[0-9]+/live)$" in edge
    assert "proxy_buffering off;" in edge


def test_webhook_attempts_have_workers_of_their_own(compose) -> None:
    services = compose["services"]
    hooks = services["webhook-worker"]["command"]
    assert hooks[hooks.index("--queues") + 1] == "webhooks"  # WEBHOOK_QUEUE's default outside tests
    assert "--queues" not in services["worker"]["command"]  # the default queue only
    assert services["webhook-worker"]["restart"] == services["worker"]["restart"] == "unless-stopped"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (Debian: nginx-light)")
def test_the_edge_sends_the_builds_precompressed_files(tmp_path: Path) -> None:
    """gzip_static: a client that accepts gzip gets the .gz written at build, byte for byte."""
    import gzip
    import urllib.request

    static = tmp_path / "static" / "spa" / "assets"
    static.mkdir(parents=True)
    script = b"console.log('storefront');\n" * 200
    (static / "app-abc.js").write_bytes(script)
    (static / "app-abc.js.gz").write_bytes(gzip.compress(script))
    port = free_port()
    conf = edge_config(tmp_path, port=port)
    edge = (tmp_path / "edge.conf").read_text().replace("alias /srv/static/;", f"alias {tmp_path}/static/;")
    (tmp_path / "edge.conf").write_text(edge)
    (tmp_path / "body").mkdir()
    (tmp_path / "proxy").mkdir()
    server = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"])
    try:
        url = f"http://127.0.0.1:{port}/static/spa/assets/app-abc.js"
        for _ in range(50):
            try:
                request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
                with urllib.request.urlopen(request, timeout=2) as answer:
                    assert answer.headers["Content-Encoding"] == "gzip"
                    assert gzip.decompress(answer.read()) == script
                    break
            except OSError:  # not listening yet
                time.sleep(0.1)
        else:
            raise AssertionError("the edge did not start")
        with urllib.request.urlopen(url, timeout=2) as plain:
            assert plain.headers.get("Content-Encoding") is None and plain.read() == script
    finally:
        server.terminate()
        server.wait(timeout=10)
