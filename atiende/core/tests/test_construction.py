"""`@quick_init` builds the same objects as `Model.__init__`, and leaves to it what its plan
does not cover."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import models
from django.db.models.signals import post_init

from atiende.cases.models import Case, Note
from atiende.core import construction
from atiende.core.models import AuditEntry
from atiende.customers.models import Contact
from atiende.sla.models import SlaTimer
from atiende.worker.models import Job

pytestmark = pytest.mark.django_db

QUICK = [Case, Note, AuditEntry, SlaTimer, Job, Contact]


@pytest.fixture
def orm_inits(monkeypatch) -> list[type]:
    """The models whose objects were left to the ORM's constructor (the plan's fallback)."""
    seen: list[type] = []
    orm = construction._orm_init

    def spy(obj, *args, **kwargs):
        seen.append(type(obj))
        orm(obj, *args, **kwargs)

    monkeypatch.setattr(construction, "_orm_init", spy)
    return seen


def general(model: type[models.Model], **kwargs) -> models.Model:
    """What the ORM's own constructor makes of the same arguments."""
    obj = model.__new__(model)
    models.Model.__init__(obj, **kwargs)
    return obj


def same(a: models.Model, b: models.Model) -> None:
    assert type(a) is type(b)
    plain = {k: v for k, v in vars(a).items() if k != "_state"}
    assert plain == {k: v for k, v in vars(b).items() if k != "_state"}
    assert list(plain) == [k for k in vars(b) if k != "_state"]  # same order of fields
    assert a._state.db == b._state.db
    assert a._state.adding == b._state.adding
    cached_a = vars(a._state).get("fields_cache", {})
    cached_b = vars(b._state).get("fields_cache", {})
    assert cached_a.keys() == cached_b.keys()
    assert all(cached_a[k] is cached_b[k] for k in cached_a)


@pytest.mark.parametrize("model", QUICK)
def test_the_hot_models_are_quick(model):
    assert model.__init__ is not models.Model.__init__
    assert construction._plan(model) is not None


def test_defaults_only(orm_inits):
    for model in QUICK:
        same(model(), general(model))
    assert orm_inits == []


def test_fields_objects_and_ids(email_channel, acme, orm_inits):
    channel, org = email_channel, acme
    now = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
    contact = Contact.objects.create(name="Ana", organization=org, created_at=now)
    kwargs = dict(
        number="CS-000123",
        type="request",
        priority="high",
        channel=channel,
        organization=org,
        requester=contact,
        assignee=None,
        subject="Factura",
        description="texto",
        created_at=now,
        updated_at=now,
    )
    a, b = Case(**kwargs), general(Case, **kwargs)
    same(a, b)
    assert a.channel is channel and a.channel_id == channel.pk and a._state.db == "default"
    # by id instead of object
    same(
        Case(channel_id=channel.pk, subject="x"), general(Case, channel_id=channel.pk, subject="x")
    )
    note = dict(case=a, body_text="hola", channel=None, author_contact=contact, created_at=now)
    same(Note(**note), general(Note, **note))
    assert orm_inits == []


def test_unsaved_related_objects_get_their_alias(email_channel, orm_inits):
    channel = email_channel
    fresh, other = Contact(name="Nuevo"), Contact(name="Nuevo")
    assert fresh._state.db is None
    case = Case(channel=channel, requester=fresh)
    assert fresh._state.db == "default" and case.requester_id is None
    orm = general(Case, channel=channel, requester=other)
    assert other._state.db == "default"
    assert case.requester is fresh and orm.requester is other
    assert {k: v for k, v in vars(case).items() if k != "_state"} == {
        k: v for k, v in vars(orm).items() if k != "_state"
    }
    assert orm_inits == []


def test_what_the_plan_does_not_cover_gets_the_orms_answer(email_channel, acme, orm_inits):
    channel, org = email_channel, acme
    with pytest.raises(TypeError, match="unexpected keyword arguments: 'nonsense'"):
        Case(subject="x", nonsense=1)
    with pytest.raises(ValueError, match='must be a "Channel" instance'):
        Case(channel=org)
    # both the object and its id: the ORM's rules, whatever they make of it
    same(
        Case(channel=channel, channel_id=channel.pk),
        general(Case, channel=channel, channel_id=channel.pk),
    )
    # positional values (a row read from the database)
    now = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
    case = Case.objects.create(
        channel=channel, subject="leído", number="CS-9", created_at=now, updated_at=now
    )
    read = Case.objects.get(pk=case.pk)
    assert read.subject == "leído" and read.channel_id == channel.pk
    assert orm_inits == [Case] * 4  # the three above and the row read (positional values)


def test_a_post_init_receiver_is_never_skipped(orm_inits):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    Note(body_text="antes")  # the signals' caches now say: no receiver for Note
    assert orm_inits == []
    post_init.connect(receiver, sender=Note)
    try:
        note = Note(body_text="x")
    finally:
        post_init.disconnect(receiver, sender=Note)
    assert seen == [note]
    assert orm_inits == [Note]
    Note(body_text="y")
    assert seen == [note]
    assert orm_inits == [Note]


def test_mutable_defaults_are_not_shared():
    a, b = AuditEntry(), AuditEntry()
    assert a.changes == {} == b.changes and a.changes is not b.changes
