import datetime as dt
import json
import logging

import pytest
from django.test import Client

from atiende.core import clock, requestid
from atiende.ops import health, logs
from atiende.worker import queue
from atiende.worker.models import Job, PeriodicTask


@pytest.fixture
def heartbeat(db):
    """A worker finished its heartbeat just now."""
    queue.ensure_periodic()
    PeriodicTask.objects.filter(name=health.HEARTBEAT_TASK).update(last_finished_at=clock.now())


def test_healthz_answers_without_the_database():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_200_with_every_check_when_all_is_well(heartbeat):
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "worker", "queue"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["migrations"]["pending"] == 0


def test_readyz_is_503_without_a_recent_worker_heartbeat(db):
    body = Client().get("/readyz").json()
    assert body["status"] == "fail"
    assert body["checks"]["worker"] == {
        "ok": False,
        "last_heartbeat": None,
        "max_age_seconds": 120,
    }
    queue.ensure_periodic()
    PeriodicTask.objects.filter(name=health.HEARTBEAT_TASK).update(
        last_finished_at=clock.now() - dt.timedelta(minutes=5)
    )
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["age_seconds"] >= 300


def test_the_heartbeat_is_a_periodic_task_the_worker_runs(db):
    queue.ensure_periodic()
    assert health.HEARTBEAT_TASK in queue.run_periodic(owner="w1")
    assert Client().get("/readyz").json()["checks"]["worker"]["ok"] is True


def test_readyz_is_503_when_the_oldest_due_job_waited_too_long(heartbeat, settings):
    settings.ATIENDE_READY_JOB_AGE_SECONDS = 60
    queue.enqueue("ops.probe", run_at=clock.now() - dt.timedelta(seconds=30))
    assert Client().get("/readyz").status_code == 200
    queue.enqueue("ops.probe", run_at=clock.now() - dt.timedelta(seconds=90))
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"]["oldest_due_age_seconds"] >= 90
    # A job scheduled for later is not late.
    Job.objects.all().delete()
    queue.enqueue("ops.probe", run_at=clock.now() + dt.timedelta(hours=1))
    assert Client().get("/readyz").status_code == 200


def test_readyz_is_503_when_the_database_is_unreachable(heartbeat, monkeypatch):
    from django.db import OperationalError

    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", refuse)
    response = Client().get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == {"ok": False, "error": "OperationalError"}
    assert checks["queue"] == {"ok": False, "skipped": "database"}


def test_the_probes_answer_a_balancer_by_address_over_http_in_production(heartbeat, settings):
    settings.ALLOWED_HOSTS = ["mesa.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    client = Client(HTTP_HOST="10.0.0.5:8000")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/canales").status_code == 400  # everything else keeps the host check


def test_every_response_carries_a_request_id_and_a_client_cannot_choose_it(db):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="forged-id-1234")
    rid = response["X-Request-ID"]
    assert rid and rid != "forged-id-1234"


def test_a_trusted_proxys_request_id_is_kept(db, settings):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="proxy-abc-123")
    assert response["X-Request-ID"] == "proxy-abc-123"
    bad = Client().get("/healthz", HTTP_X_REQUEST_ID="has space\nnewline")
    assert bad["X-Request-ID"] != "has space\nnewline"


def test_json_log_lines_carry_the_request_id_and_mask_secrets():
    formatter = logs.JsonFormatter()
    token = requestid.current.set("abc123def456")
    try:
        record = logging.LogRecord(
            "atiende.x",
            logging.WARNING,
            __file__,
            1,
            "login failed password=%s",
            ("hunter2",),
            None,
        )
        line = json.loads(formatter.format(record))
    finally:
        requestid.current.reset(token)
    assert line["request_id"] == "abc123def456"
    assert line["level"] == "WARNING"
    assert line["logger"] == "atiende.x"
    assert "hunter2" not in line["message"]
    assert line["message"] == "login failed password=***"


def test_the_json_log_format_is_chosen_by_the_environment(tmp_path):
    import os
    import subprocess
    import sys

    env = os.environ | {
        "ATIENDE_LOG_FORMAT": "json",
        "ATIENDE_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "atiende.settings",
    }
    env.pop("DATABASE_URL", None)
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('atiende.test').warning('hola %s', 'mundo')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    line = json.loads(out.stderr.strip().splitlines()[-1])
    assert line["message"] == "hola mundo"
    assert line["request_id"] is None
    env["ATIENDE_LOG_FORMAT"] = "xml"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "ATIENDE_LOG_FORMAT" in bad.stderr


def test_the_request_id_follows_the_jobs_the_request_queues(db, caplog):
    from atiende.worker.models import Job

    token = requestid.current.set("req-0123456789")
    try:
        job = queue.enqueue("ops.probe", {"x": 1})
    finally:
        requestid.current.reset(token)
    assert job.payload == {"x": 1, "_request_id": "req-0123456789"}
    seen = []
    logger = logging.getLogger("atiende.test")

    from atiende.worker import registry

    registry.load()
    original = registry.HANDLERS["ops.probe"]

    def handler(payload):
        seen.append(requestid.get())
        logger.warning("probing")
        original(payload)

    registry.HANDLERS["ops.probe"] = handler
    try:
        assert queue.run_pending(owner="w1") == 1
    finally:
        registry.HANDLERS["ops.probe"] = original
    assert seen == ["req-0123456789"]
    assert Job.objects.get(pk=job.pk).status == "done"
    assert requestid.get() == ""


def test_djangos_own_request_log_lines_carry_the_request_id(db, caplog):
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(requestid.get())

    handler = Keep()
    logging.getLogger("django.request").addHandler(handler)
    try:
        response = Client().get("/no-existe-esta-pagina")
    finally:
        logging.getLogger("django.request").removeHandler(handler)
    assert response.status_code == 404
    assert seen == [response["X-Request-ID"]]
    assert requestid.get() == ""  # cleared once the response is closed
