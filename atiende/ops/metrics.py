"""`/metrics` in the Prometheus text format.

Two sources, so that any number of gunicorn processes on any number of machines answer
alike:

- **State, read from the database at scrape time** (`DatabaseCollector`): messages
  received, jobs, SLA timers, quarantine, IMAP polls, delivery failures, escalations. The
  database is the one truth every process shares, so whichever process (or machine) the
  scrape lands on answers the same. Each family reads an index, not a table: at a million
  cases a scrape that counted every note took 2 to 3 s on SQLite. The message counters are
  the one thing kept between scrapes (`Tally`): what lies below a mark is counted once
  per process, each scrape counts only the rows above it.
- **Timings observed in the process** (the webhook acknowledgement latency histogram):
  these exist only where the request ran. `atiende serve` runs gunicorn with
  `PROMETHEUS_MULTIPROC_DIR` (the data directory's `metrics/`, emptied when serve
  starts): each process writes its observations to a memory-mapped file there and a
  scrape adds up every process's files (prometheus_client's multiprocess mode). Each
  machine exposes its own processes' histogram; Prometheus scrapes every machine and sums.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.db.models import BooleanField, Count, Max, Min, Q, QuerySet
from django.db.models.expressions import RawSQL

from atiende.core import clock

WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_histogram = None
_histogram_lock = threading.Lock()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def prepare_multiprocess_dir(path: Path) -> None:
    """Empty (or create) the directory and point this process and its children at it;
    called by `atiende serve` before gunicorn forks its workers."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def webhook_histogram() -> Any:
    """The histogram, created once per process: the first webhooks of a fresh process
    arrive on several threads at once, and a second registration would raise."""
    global _histogram
    if _histogram is not None:
        return _histogram
    with _histogram_lock:
        if _histogram is not None:
            return _histogram
        from prometheus_client import Histogram

        _histogram = Histogram(
            "atiende_webhook_ack_seconds",
            "Time from a provider's webhook request arriving to atiende's answer.",
            ["channel"],
            buckets=WEBHOOK_BUCKETS,
        )
    return _histogram


def observe_webhook(channel: str, seconds: float) -> None:
    webhook_histogram().labels(channel=channel).observe(seconds)


class Tally:
    """Rows of a table per channel, for a counter: the rows up to a mark are counted once
    per process and kept; each scrape counts only the rows above the mark (a range of the
    primary key). The mark stays `MARGIN` ids below the highest id, so a transaction that
    took its id early and commits late is still counted when it lands. Rows are never
    deleted (cases are closed, notes kept), so what lies below the mark does not change."""

    MARGIN = 10_000

    def __init__(self, rows: Callable[[], QuerySet[Any]]) -> None:
        self._rows = rows  # a callable: the models are not loaded when this module is
        self._lock = threading.Lock()
        self._mark = 0
        self._below: Counter[int | None] = Counter()

    def counts(self) -> Counter[int | None]:
        """{channel id: rows}."""
        with self._lock:
            rows = self._rows()
            top = rows.model.objects.aggregate(top=Max("id"))["top"] or 0
            mark = max(self._mark, top - self.MARGIN)
            if mark > self._mark:
                self._below.update(self._per_channel(rows.filter(id__gt=self._mark, id__lte=mark)))
                self._mark = mark
            return self._below + self._per_channel(rows.filter(id__gt=mark))

    @staticmethod
    def _per_channel(rows: QuerySet[Any]) -> Counter[int | None]:
        return Counter(dict(rows.values_list("channel").annotate(n=Count("id")).order_by()))

    def forget(self) -> None:
        """Count everything again on the next scrape (tests)."""
        with self._lock:
            self._mark, self._below = 0, Counter()


def _cases() -> QuerySet[Any]:
    from atiende.cases.models import Case

    return Case.objects.all()


def _inbound_notes() -> QuerySet[Any]:
    from atiende.cases.models import Direction, Note

    return Note.objects.filter(direction=Direction.INBOUND)


CASES_OPENED = Tally(_cases)
INBOUND_NOTES = Tally(_inbound_notes)


class DatabaseCollector:
    """Every gauge and counter computed from the database when scraped."""

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        from atiende.cases.models import Delivery, Direction, Note
        from atiende.channels.email.models import MailboxState, QuarantinedEmail
        from atiende.directory.models import Channel
        from atiende.escalations.models import EscalationRequest, RequestStatus
        from atiende.sla import selectors as sla_reads
        from atiende.sla.models import TimerKind
        from atiende.worker.models import Job, JobStatus

        now = clock.now()
        # Each family below reads its own `.values()` rows (dicts of different keys).
        row: Any
        rows: Any

        slugs = dict(Channel.objects.values_list("id", "slug"))
        received = CounterMetricFamily(
            "atiende_messages_received",
            "Messages received, per channel: cases opened there plus customers' notes.",
            labels=["channel"],
        )
        counts = CASES_OPENED.counts() + INBOUND_NOTES.counts()
        for slug, n in sorted(
            (slugs.get(channel, "") if channel else "", n) for channel, n in counts.items()
        ):
            received.add_metric([slug], n)
        yield received

        failures = CounterMetricFamily(
            "atiende_outbound_delivery_failures",
            "Messages to customers whose delivery failed for good, per channel.",
            labels=["channel"],
        )
        # The partial index `note_delivery_failed` (its condition written out as literals:
        # SQLite matches a partial index only to the same constants, not to parameters).
        failed = Note.objects.filter(
            RawSQL(
                f"cases_note.direction = '{Direction.OUTBOUND.value}'"
                f" AND cases_note.delivery_status = '{Delivery.FAILED.value}'",
                [],
                output_field=BooleanField(),
            )
        )
        for channel, n in failed.values_list("channel").annotate(n=Count("id")).order_by():
            failures.add_metric([slugs.get(channel, "") if channel else ""], n)
        yield failures

        jobs = GaugeMetricFamily(
            "atiende_jobs", "Background jobs by kind and state.", labels=["kind", "state"]
        )
        oldest = GaugeMetricFamily(
            "atiende_jobs_oldest_age_seconds",
            "Age of the oldest due pending job (0 when none), and of the oldest running one.",
            labels=["kind", "state"],
        )
        waiting = Q(status=JobStatus.PENDING, run_at__lte=now)
        rows = (
            Job.objects.filter(waiting | Q(status__in=[JobStatus.RUNNING, JobStatus.FAILED]))
            .values("kind", "status")
            .annotate(n=Count("id"), first=Min("run_at"))
            .order_by()
        )
        for row in rows:
            state = "waiting" if row["status"] == JobStatus.PENDING else row["status"]
            jobs.add_metric([row["kind"], state], row["n"])
            if state in ("waiting", "running"):
                oldest.add_metric(
                    [row["kind"], state], max(0.0, (now - row["first"]).total_seconds())
                )
        scheduled = (
            Job.objects.filter(status=JobStatus.PENDING, run_at__gt=now)
            .values("kind")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in scheduled:
            jobs.add_metric([row["kind"], "scheduled"], row["n"])
        yield jobs
        yield oldest

        at_risk = GaugeMetricFamily(
            "atiende_sla_at_risk",
            "SLA clocks of active cases past their at-risk point and not yet due, per kind.",
            labels=["kind"],
        )
        breached = GaugeMetricFamily(
            "atiende_sla_breached",
            "SLA clocks of active cases past due (met late or still running), per kind.",
            labels=["kind"],
        )
        # The console's queues' partial indexes (sla.selectors): each pair of arms is
        # disjoint, so their counts add up.
        for family, arms in (
            (at_risk, sla_reads.at_risk_arms(now)),
            (breached, sla_reads.breached_arms(now)),
        ):
            by_kind: dict[str, int] = {kind: 0 for kind in TimerKind.values}
            for arm in arms:
                for kind, n in arm.values_list("kind").annotate(n=Count("id")).order_by():
                    by_kind[kind] = by_kind.get(kind, 0) + n
            for kind, n in sorted(by_kind.items()):
                family.add_metric([kind], n)
        yield at_risk
        yield breached

        quarantined = GaugeMetricFamily(
            "atiende_emails_quarantined",
            "Emails in quarantine (not yet resolved), per channel.",
            labels=["channel"],
        )
        for row in (
            QuarantinedEmail.objects.filter(resolved_at__isnull=True)
            .values("channel__slug")
            .annotate(n=Count("id"))
            .order_by()
        ):
            quarantined.add_metric([row["channel__slug"]], row["n"])
        yield quarantined

        lag = GaugeMetricFamily(
            "atiende_imap_poll_lag_seconds",
            "Seconds since each mailbox was last polled successfully.",
            labels=["channel", "folder"],
        )
        for row in MailboxState.objects.filter(last_poll_at__isnull=False).values(
            "channel__slug", "folder", "last_poll_at"
        ):
            lag.add_metric(
                [row["channel__slug"], row["folder"]],
                max(0.0, (now - row["last_poll_at"]).total_seconds()),
            )
        yield lag

        escalations = GaugeMetricFamily(
            "atiende_escalations_pending",
            "Escalation requests waiting for a decision, per level asked for.",
            labels=["level"],
        )
        for row in (
            EscalationRequest.objects.filter(status=RequestStatus.PENDING)
            .values("to_level")
            .annotate(n=Count("id"))
            .order_by()
        ):
            escalations.add_metric([str(row["to_level"])], row["n"])
        yield escalations


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    webhook_histogram()  # declared even before the first webhook, so it is always listed
    registry = CollectorRegistry()
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessLocal(REGISTRY))
    started = time.perf_counter()
    registry.register(DatabaseCollector())
    body = generate_latest(registry)
    took = GaugeMetricFamily(
        "atiende_metrics_scrape_seconds", "Time spent computing the database metrics."
    )
    took.add_metric([], time.perf_counter() - started)
    extra = CollectorRegistry()
    extra.register(_Fixed([took]))
    return body + generate_latest(extra), CONTENT_TYPE_LATEST


class _ProcessLocal:
    """This process's own metrics (only atiende's), when not in multiprocess mode."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        for family in self.source.collect():
            if family.name.startswith("atiende_"):
                yield family


class _Fixed:
    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> Iterator[Any]:
        yield from self.families
