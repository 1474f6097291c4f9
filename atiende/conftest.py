"""Fixtures shared by every app's tests: named personas and minimal channels.

Personas: `agent`, `supervisor`, `admin_user`, `customer` (of ACME) and `other_customer`
(of Globex), with API tokens in `tokens[persona]`. Permission tests use these names.
"""

from __future__ import annotations

import pytest

from atiende.accounts import services as accounts
from atiende.customers import services as customers
from atiende.directory.models import Channel

HOURS_INCIDENTS_24X7 = [
    {"when": {"type": "incident"}, "schedule": "24x7"},
    {"schedule": "horario-habil"},
]


def pytest_configure(config):
    from django.conf import settings

    # Real hashing costs ~0.3 s a user; tests create many users and don't test the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    from django.db.backends.signals import connection_created

    connection_created.connect(_guard_deferred_rows, dispatch_uid="atiende-deferred-guard")


def _guard_deferred_rows(sender, connection, **kwargs):
    """Every test connection refuses a query that would miss deferred rows (core/deferred.py)."""
    from atiende.core import deferred

    if deferred.guard not in connection.execute_wrappers:
        connection.execute_wrappers.append(deferred.guard)


@pytest.fixture(autouse=True)
def _attachments_in_tmp(settings, tmp_path):
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"


@pytest.fixture(autouse=True)
def _case_numbers_start_at_one(request):
    """PostgreSQL takes case numbers from a sequence, which a test's rollback doesn't undo;
    restart it so every test numbers its cases from CS0000001, as on SQLite."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker:
        request.getfixturevalue("db")
    else:
        return
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT setval('cases_case_number_seq', 1, false)")


@pytest.fixture(autouse=True)
def _empty_caches():
    """Django's caches outlive a test's rows (e.g. the console's shared queue counts, kept
    for a few seconds): each test starts with none of another test's figures."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_configuration_snapshot():
    # A rolled-back test deletes rows without signals; the next test must not see them.
    from atiende.core import snapshot

    snapshot.invalidate_all()
    yield
    snapshot.invalidate_all()


HORARIO_HABIL = {
    "mon": ["07:00-19:00"],
    "tue": ["07:00-19:00"],
    "wed": ["07:00-19:00"],
    "thu": ["07:00-19:00"],
    "fri": ["07:00-19:00"],
    "sat": ["08:00-13:00"],
}


@pytest.fixture
def schedules(db):
    """The two reference schedules: `horario-habil` and `24x7`."""
    from atiende.sla.models import Schedule

    return {
        "horario-habil": Schedule.objects.create(
            slug="horario-habil", name="Horario hábil", weekly=HORARIO_HABIL, holiday_country="CO"
        ),
        "24x7": Schedule.objects.create(
            slug="24x7", name="24/7", always_open=True, holiday_country="CO"
        ),
    }


@pytest.fixture
def sla_targets(schedules):
    """The default SLA targets of PRODUCT.md (seconds)."""
    from atiende.sla.models import SlaTarget

    h = 3600
    rows = [("incident", "critical", 15 * 60, 4 * h, schedules["24x7"])]
    for type_ in ("incident", "request"):
        rows += [
            (type_, "high", 1 * h, 8 * h, None),
            (type_, "moderate", 4 * h, 24 * h, None),
            (type_, "low", 8 * h, 40 * h, None),
        ]
    rows.append(("request", "critical", 1 * h, 8 * h, None))
    rows += [("change", p, 8 * h, 48 * h, None) for p in ("critical", "high", "moderate", "low")]
    return [
        SlaTarget.objects.create(
            type=t, priority=p, first_response_seconds=f, resolution_seconds=r, schedule=s
        )
        for t, p, f, r, s in rows
    ]


@pytest.fixture
def make_channel(schedules):
    def make(slug: str, kind: str, **fields) -> Channel:
        fields.setdefault("name", slug)
        fields.setdefault("hours", HOURS_INCIDENTS_24X7)
        fields.setdefault("attends", "all")
        return Channel.objects.create(slug=slug, kind=kind, **fields)

    return make


@pytest.fixture
def portal(make_channel) -> Channel:
    return make_channel("portal", "portal", name="Portal de autogestión")


@pytest.fixture
def api_channel(make_channel) -> Channel:
    return make_channel("api", "api", name="API", public=False)


@pytest.fixture
def email_channel(make_channel) -> Channel:
    return make_channel(
        "correo",
        "email",
        name="Correo",
        address="mesadeayuda@certicamara.com",
        hours=[{"schedule": "horario-habil"}],
    )


@pytest.fixture
def acme(db):
    return customers.create_organization(
        slug="acme", name="ACME S.A.S.", email_domains=["acme.com.co"]
    )


@pytest.fixture
def globex(db):
    return customers.create_organization(
        slug="globex", name="Globex Ltda.", email_domains=["globex.co"]
    )


@pytest.fixture
def agent(db):
    return accounts.create_user(
        email="ana.agente@mesa.test", name="Ana Agente", role="agent", password="clave-segura-1"
    )


@pytest.fixture
def supervisor(db):
    return accounts.create_user(
        email="sergio.sup@mesa.test", name="Sergio Supervisor", role="supervisor", level=2
    )


@pytest.fixture
def admin_user(db):
    return accounts.create_user(
        email="admin@mesa.test", name="Admin", role="admin", password="clave-segura-1"
    )


@pytest.fixture
def customer(acme):
    return accounts.create_user(
        email="carla@acme.com.co",
        name="Carla Cliente",
        role="customer",
        organization="acme",
        password="clave-segura-1",
    )


@pytest.fixture
def other_customer(globex):
    return accounts.create_user(
        email="gus@globex.co", name="Gustavo Globex", role="customer", organization="globex"
    )


@pytest.fixture
def tokens(agent, supervisor, admin_user, customer, other_customer):
    people = {
        "agent": agent,
        "supervisor": supervisor,
        "admin": admin_user,
        "customer": customer,
        "other_customer": other_customer,
    }
    return {name: accounts.issue_token(user=user) for name, user in people.items()}


@pytest.fixture
def reference(db):
    """The bundled reference configuration (schedules, channels, levels, targets), loaded."""
    from django.conf import settings

    from atiende.configuration import loader

    return loader.load(settings.DEFAULT_CONFIG)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and before it is dropped: server threads of the
    browser tests (live_server) keep their persistent connections (CONN_MAX_AGE) after the
    test; on PostgreSQL such a connection stops the test database from being dropped at the
    end. End them first."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
