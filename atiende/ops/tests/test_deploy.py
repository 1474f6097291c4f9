"""The deployment files (deploy/): the compose file's structure, the image's recipe, the
systemd units, and Django's deployment checks passing with the production environment the
files use. Building and starting the image needs a Docker daemon: .ci/run does it when
one answers; these checks run everywhere."""

from __future__ import annotations

import configparser
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
ATIENDE = str(Path(sys.executable).parent / "atiende")


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_compose_file_has_database_web_workers_and_a_tls_proxy():
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"db", "migrate", "web", "worker", "proxy"}
    assert services["db"]["image"].startswith("postgres:")
    assert "healthcheck" in services["db"]
    # Migrations once, before the web servers and workers.
    assert services["migrate"]["command"][:2] == ["atiende", "migrate"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert services[name]["env_file"] == "atiende.env"
    assert services["web"]["command"][:3] == ["atiende", "serve", "--no-worker"]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["worker"]["command"] == ["atiende", "worker"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    # Web and workers share the attachments (or use the bucket).
    assert "attachments:/var/lib/atiende/attachments" in services["web"]["volumes"]
    assert "attachments:/var/lib/atiende/attachments" in services["worker"]["volumes"]
    # The proxy: TLS ports, the Caddyfile, and it is the one the web servers trust.
    proxy = services["proxy"]
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    assert any(v.startswith("./Caddyfile:") for v in proxy["volumes"])
    import ipaddress

    trusted = ipaddress.ip_network(services["web"]["environment"]["ATIENDE_TRUSTED_PROXIES"])
    assert ipaddress.ip_address(proxy["networks"]["backend"]["ipv4_address"]) in trusted
    for name in set(services) - {"proxy"}:
        assert "ports" not in services[name], f"{name} must not be published"
    assert set(compose["volumes"]) >= {"pgdata", "attachments"}


def test_the_caddyfile_proxies_to_web_and_hides_metrics():
    text = (DEPLOY / "Caddyfile").read_text()
    assert "{$ATIENDE_DOMAIN}" in text
    assert re.search(r"reverse_proxy web:8000", text)
    assert re.search(r"@internal path /metrics\s+respond @internal 404", text)


def test_the_image_is_multi_stage_non_root_and_uses_the_lock():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, flags=re.M)
    assert len(stages) == 2
    assert "--constraint requirements.lock" in text
    assert "COPY --from=build /opt/atiende /opt/atiende" in text
    user = re.findall(r"^USER\s+(\S+)", text, flags=re.M)
    assert user and not user[-1].startswith(("root", "0"))
    assert "postgresql-client" in text  # pg_dump for atiende backup
    assert "HEALTHCHECK" in text


def test_the_systemd_units_run_atiende_unprivileged():
    units = sorted((DEPLOY / "systemd").iterdir())
    assert {u.name for u in units} == {
        "atiende-web.service",
        "atiende-worker@.service",
        "atiende-backup.service",
        "atiende-backup.timer",
    }
    for unit in units:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read(unit)
        if unit.suffix == ".service":
            service = parser["Service"]
            assert service["User"] == "atiende"
            assert service["ExecStart"].split()[0].startswith(("/opt/atiende/bin/", "/bin/sh"))
            assert service["EnvironmentFile"] == "/etc/atiende/atiende.env"
            assert service["NoNewPrivileges"] == "yes"
    web = (DEPLOY / "systemd" / "atiende-web.service").read_text()
    assert "serve --no-worker" in web


def _production_env(tmp_path: Path) -> dict[str, str]:
    """deploy/atiende.env.example with its placeholders filled in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ATIENDE_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    for line in (DEPLOY / "atiende.env.example").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if value.startswith("<"):
            value = secrets.token_urlsafe(50)
        env[key] = value
    env.update(DJANGO_SETTINGS_MODULE="atiende.settings", ATIENDE_DATA_DIR=str(tmp_path))
    return env


def test_django_deploy_checks_pass_with_the_production_environment(tmp_path):
    env = _production_env(tmp_path)
    assert env["ATIENDE_PUBLIC_URL"].startswith("https://")
    done = subprocess.run(
        [ATIENDE, "check", "--deploy", "--fail-level", "INFO"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_probes_skip_the_redirect_in_production(tmp_path):
    env = _production_env(tmp_path)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SECURE_SSL_REDIRECT, settings.SECURE_REDIRECT_EXEMPT)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("True")
    assert "healthz" in out and "readyz" in out


def test_s3_settings_come_from_the_environment(tmp_path):
    env = _production_env(tmp_path) | {
        "ATIENDE_S3_BUCKET": "mesa-adjuntos",
        "ATIENDE_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "conf = settings.STORAGES['attachments']; "
        "conf['OPTIONS']['client_config'] = conf['OPTIONS']['client_config'].connect_timeout; "
        "print(json.dumps(conf))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    import json

    conf = json.loads(out)
    assert conf["BACKEND"] == "storages.backends.s3.S3Storage"
    assert conf["OPTIONS"]["bucket_name"] == "mesa-adjuntos"
    assert conf["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"
    assert conf["OPTIONS"]["location"] == "attachments"
    assert conf["OPTIONS"]["client_config"] == 5  # seconds to connect, then a 503
    assert "access_key" not in conf["OPTIONS"] and "secret_key" not in conf["OPTIONS"]
