import datetime as dt
import ipaddress

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from atiende.core import clock
from atiende.escalations.models import EscalationRequest
from atiende.sla import services as sla
from atiende.sla.models import SlaTimer
from atiende.worker import queue
from atiende.worker.models import Job, JobStatus


def scrape(client=None, **headers) -> dict:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_metrics_are_open_to_loopback_only(db, settings):
    settings.ATIENDE_METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    refused = Client(REMOTE_ADDR="203.0.113.7").get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")


def test_elsewhere_metrics_need_the_bearer_token(db, settings):
    settings.ATIENDE_METRICS_TOKEN = "s3creto-de-metricas"
    remote = Client(REMOTE_ADDR="203.0.113.7")
    assert remote.get("/metrics").status_code == 401
    assert remote.get("/metrics", HTTP_AUTHORIZATION="Bearer otro").status_code == 401
    ok = remote.get("/metrics", HTTP_AUTHORIZATION="Bearer s3creto-de-metricas")
    assert ok.status_code == 200


def test_through_the_local_proxy_the_client_is_not_loopback(db, settings):
    """A proxy on this machine connects from 127.0.0.1; the client it names is remote."""
    settings.ATIENDE_METRICS_TOKEN = ""
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    client = Client(REMOTE_ADDR="127.0.0.1")
    response = client.get("/metrics", HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert response.status_code == 401


def test_job_metrics_by_kind_and_state_with_the_oldests_age(db):
    now = clock.now()
    queue.enqueue("email.send", run_at=now - dt.timedelta(seconds=40))
    queue.enqueue("email.send", run_at=now - dt.timedelta(seconds=10))
    queue.enqueue("email.send", run_at=now + dt.timedelta(hours=1))
    failed = queue.enqueue("whatsapp.send", dedupe_key="f1")
    Job.objects.filter(pk=failed.pk).update(status=JobStatus.FAILED)
    samples = scrape()
    assert value(samples, "atiende_jobs", kind="email.send", state="waiting") == 2
    assert value(samples, "atiende_jobs", kind="email.send", state="scheduled") == 1
    assert value(samples, "atiende_jobs", kind="whatsapp.send", state="failed") == 1
    age = value(samples, "atiende_jobs_oldest_age_seconds", kind="email.send", state="waiting")
    assert 39 <= age <= 120


def test_message_sla_and_escalation_metrics(db, agent, customer, portal, sla_targets):
    from atiende.cases import services as cases

    case = cases.open_case(
        actor=customer,
        channel=portal,
        subject="Sin firma",
        description="No puedo firmar",
        type="incident",
        priority="high",
    )
    samples = scrape()
    assert value(samples, "atiende_messages_received_total", channel=portal.slug) >= 1
    timers = SlaTimer.objects.filter(case=case)
    assert timers.count() == 2

    def totals() -> tuple[float, float]:
        samples = scrape()
        return (
            sum(v for (n, _), v in samples.items() if n == "atiende_sla_at_risk"),
            sum(v for (n, _), v in samples.items() if n == "atiende_sla_breached"),
        )

    # Both clocks reach their at-risk instant (the sweep's next check), the first one is
    # also past due: counted before the sweep gets to them, and the same after it.
    past = clock.now() - dt.timedelta(minutes=1)
    timers.update(at_risk_at=past, next_check_at=past)
    first = timers.order_by("kind").first()
    SlaTimer.objects.filter(pk=first.pk).update(due_at=past)
    assert totals() == (1, 1)
    sla.sweep()
    assert SlaTimer.objects.get(pk=first.pk).breached_at is not None
    assert totals() == (1, 1)
    # A case that is no longer active leaves both gauges.
    cases.change_status(case=case, actor=agent, status="cancelled", reason="duplicado")
    assert totals() == (0, 0)
    EscalationRequest.objects.create(
        case=case, from_level=1, to_level=2, via="portal", created_at=clock.now()
    )
    assert value(scrape(), "atiende_escalations_pending", level="2") == 1


def test_messages_and_failed_deliveries_are_counted_from_indexes(
    db, agent, customer, portal, sla_targets, monkeypatch
):
    from atiende.cases import services as cases
    from atiende.cases.models import Note
    from atiende.ops import metrics

    # A small margin, so the mark moves within this test: what lies below it is counted
    # once and kept, what lies above is counted on each scrape.
    monkeypatch.setattr(metrics.Tally, "MARGIN", 2)
    metrics.CASES_OPENED.forget()
    metrics.INBOUND_NOTES.forget()

    def received() -> float:
        return value(scrape(), "atiende_messages_received_total", channel=portal.slug)

    opened = []
    for n in range(3):
        opened.append(
            cases.open_case(
                actor=customer, channel=portal, subject=f"Consulta {n}", description="x"
            )
        )
        for _ in range(2):
            cases.add_note(case=opened[-1], body_text="más datos", author_contact=customer.contact)
        inbound = Note.objects.filter(direction="inbound", channel=portal).count()
        assert received() == len(opened) + inbound  # each scrape: every message once
    assert metrics.INBOUND_NOTES._mark > 0  # the mark moved: the lower rows are kept

    reply = cases.add_note(case=opened[0], body_text="Respuesta", actor=agent, visibility="public")
    assert reply.direction == "outbound"
    Note.objects.filter(pk=reply.pk).update(delivery_status="failed")
    failures = value(
        scrape(), "atiende_outbound_delivery_failures_total", channel=reply.channel.slug
    )
    assert failures == 1


def test_webhook_acknowledgements_are_timed(db):
    before = value(scrape(), "atiende_webhook_ack_seconds_count", channel="whatsapp")
    Client().post("/webhooks/whatsapp", b"{}", content_type="application/json")
    after = value(scrape(), "atiende_webhook_ack_seconds_count", channel="whatsapp")
    assert after == before + 1


@pytest.mark.django_db(transaction=True)
def test_metrics_add_up_across_gunicorn_processes(tmp_path):
    """Two processes in multiprocess mode: one scrape sees both processes' observations."""
    import os
    import subprocess
    import sys

    directory = tmp_path / "prom"
    directory.mkdir()
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
    code = (
        "from atiende.ops import metrics; "
        "metrics.observe_webhook('phone', 0.02); metrics.observe_webhook('phone', 0.3)"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    text = generate_latest(registry).decode()
    assert 'atiende_webhook_ack_seconds_count{channel="phone"} 4.0' in text
    assert 'atiende_webhook_ack_seconds_bucket{channel="phone",le="0.025"} 2.0' in text


def test_the_first_webhooks_on_many_threads_create_one_histogram():
    """A fresh web process meets its first webhooks on several threads at once: each must
    be observed (a second registration of the histogram raised, and the webhook got a 500)."""
    import subprocess
    import sys

    code = """
import sys, threading
sys.setswitchinterval(1e-6)
from atiende.ops import metrics
start = threading.Barrier(16)
failures = []
def first_webhook():
    start.wait()
    try:
        metrics.observe_webhook("phone", 0.01)
    except Exception as exc:
        failures.append(repr(exc))
threads = [threading.Thread(target=first_webhook) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
counts = [s.value for f in metrics.webhook_histogram().collect() for s in f.samples
          if s.name.endswith("_count") and s.labels.get("channel") == "phone"]
print(len(failures), counts[0])
"""
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        assert out == ["0", "16.0"], out
