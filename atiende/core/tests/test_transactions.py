"""Services share their caller's transaction; audit entries are written together; a batch
of items shares one transaction."""

import contextlib

import pytest
from django.db import transaction

from atiende.core import audit, clock
from atiende.core.errors import InvalidInput
from atiende.core.models import AuditEntry
from atiende.core.tests.queries import statements
from atiende.core.transactions import Spoiled, batch, service, service_scope
from atiende.customers.models import Organization

pytestmark = pytest.mark.django_db


def _org(slug: str) -> Organization:
    return Organization.objects.create(slug=slug, name=slug.upper(), created_at=clock.now())


@service
def _create_and_audit(slug: str, *, fail: bool = False) -> Organization:
    org = _org(slug)
    audit.record(actor=None, action="test.created", obj=org)
    if fail:
        raise InvalidInput("no")
    return org


@service
def _outer(slugs: list[str], fail_at: str | None = None) -> None:
    for slug in slugs:
        _create_and_audit(slug, fail=slug == fail_at)


def test_entries_recorded_in_a_batch_are_written_with_one_insert_at_its_end():
    with audit.batched():
        org = _org("a")
        audit.record(actor=None, action="one", obj=org)
        audit.record(actor=None, action="two", obj=org)
        assert not AuditEntry.objects.filter(object_id=str(org.pk)).exists()
    actions = list(
        AuditEntry.objects.filter(object_id=str(org.pk)).order_by("id").values_list("action")
    )
    assert actions == [("one",), ("two",)]


def test_one_insert_writes_the_whole_batch():
    org = _org("b")
    with statements('INSERT INTO "core_auditentry"') as inserts, audit.batched():
        for n in range(5):
            audit.record(actor=None, action=f"a{n}", obj=org)
    assert len(inserts) == 1
    assert AuditEntry.objects.filter(object_id=str(org.pk)).count() == 5


def test_a_nested_block_that_raises_takes_its_entries_with_it():
    org = _org("c")
    with audit.batched():
        audit.record(actor=None, action="kept", obj=org)
        with pytest.raises(InvalidInput), transaction.atomic(), audit.batched():
            audit.record(actor=None, action="dropped", obj=org)
            raise InvalidInput("x")
    actions = set(AuditEntry.objects.filter(object_id=str(org.pk)).values_list("action", flat=True))
    assert actions == {"kept"}


def test_nothing_is_written_when_the_outermost_batch_raises():
    org = _org("d")
    with pytest.raises(RuntimeError), audit.batched():
        audit.record(actor=None, action="never", obj=org)
        raise RuntimeError
    assert not AuditEntry.objects.filter(object_id=str(org.pk)).exists()


def test_a_service_called_by_a_service_opens_no_savepoint_of_its_own():
    with statements("SAVEPOINT") as savepoints:
        _outer(["e1", "e2", "e3"])
    # The test's own transaction makes the outer call a savepoint; the three inner calls
    # join it.
    assert len(savepoints) == 1
    assert Organization.objects.filter(slug__in=["e1", "e2", "e3"]).count() == 3
    assert AuditEntry.objects.filter(action="test.created").count() == 3


def test_an_error_in_a_nested_service_rolls_back_the_whole_outer_service():
    with pytest.raises(InvalidInput):
        _outer(["f1", "f2", "f3"], fail_at="f2")
    assert not Organization.objects.filter(slug__startswith="f").exists()
    assert not AuditEntry.objects.filter(action="test.created").exists()


def test_a_caller_that_catches_a_service_error_keeps_a_usable_transaction():
    with pytest.raises(InvalidInput):
        _create_and_audit("g1", fail=True)
    # The top-level call had its own savepoint: the test's transaction goes on.
    _create_and_audit("g2")
    assert list(
        Organization.objects.filter(slug__startswith="g").values_list("slug", flat=True)
    ) == ["g2"]


# -- batch(): many items in one transaction, redone one by one when one fails --


@service
def _item(slug: str, *, fail: bool = False) -> Organization:
    with service_scope():  # what an item's entry point does (receive_message, ingest)
        return _create_and_audit(slug, fail=fail)


@pytest.mark.django_db(transaction=True)
def test_a_batch_stores_its_items_in_one_transaction_without_a_savepoint_each():
    with statements("SAVEPOINT") as savepoints, batch():
        for n in range(5):
            _item(f"h{n}")
    assert savepoints == []
    assert Organization.objects.filter(slug__startswith="h").count() == 5
    assert AuditEntry.objects.filter(action="test.created").count() == 5


@pytest.mark.django_db(transaction=True)
def test_an_item_that_fails_spoils_the_batch_even_when_its_error_is_caught():
    with pytest.raises(Spoiled) as raised, batch():
        _item("i1")
        with contextlib.suppress(InvalidInput):  # caught: outside a batch it would be fine
            _item("i2", fail=True)
        _item("i3")
    assert isinstance(raised.value.__cause__, InvalidInput)
    # Everything rolled back: the owner redoes the items one by one.
    assert not Organization.objects.filter(slug__startswith="i").exists()
    assert not AuditEntry.objects.exists()
    for slug in ("i1", "i2", "i3"):
        with contextlib.suppress(InvalidInput):
            _item(slug, fail=slug == "i2")
    assert set(Organization.objects.values_list("slug", flat=True)) >= {"i1", "i3"}
    assert not Organization.objects.filter(slug="i2").exists()


def test_a_batch_cannot_run_inside_a_service():
    with pytest.raises(RuntimeError), service_scope(), batch():
        pass
