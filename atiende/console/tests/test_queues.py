"""The queues page: what each queue holds, its count, filters, sort, pages, the SLA
deadline in words, bulk actions, and a fixed number of statements per page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache

from atiende.cases import services as cases
from atiende.cases.models import Case
from atiende.console import selectors
from atiende.console.tests.queues_world import world_fixture  # noqa: F401
from atiende.escalations import services as escalations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def numbers(response) -> list[str]:
    return re.findall(
        r'class="case-link" href="/console/cases/(CS\d{7})"', response.content.decode()
    )


def count_of(response, slug: str) -> int:
    m = re.search(rf'data-count="{slug}">(\d+)<', response.content.decode())
    assert m, slug
    return int(m.group(1))


def test_mine_holds_my_active_cases(client, world):
    client.force_login(world.ana)
    response = client.get("/console/")
    assert response.status_code == 200
    assert numbers(response) == [world.mine.number]  # the cancelled one is not work to do
    assert count_of(response, "mine") == 1


def test_my_groups_unassigned_cases(client, world):
    client.force_login(world.beto)
    response = client.get("/console/?queue=unassigned")
    assert numbers(response) == [world.unassigned.number]


def test_critical_incidents(client, world):
    client.force_login(world.ana)
    assert numbers(client.get("/console/?queue=critical")) == [world.critical.number]


def test_awaiting_the_customer(client, world):
    client.force_login(world.ana)
    assert numbers(client.get("/console/?queue=awaiting")) == [world.awaiting.number]


def test_all_lists_every_case_by_last_activity(client, world):
    client.force_login(world.ana)
    world.clock.advance(minutes=1)
    cases.add_note(
        case=world.unassigned, body_text="Revisando", actor=world.ana, visibility="internal"
    )
    got = numbers(client.get("/console/?queue=all"))
    assert got[0] == world.unassigned.number
    assert set(got) == set(Case.objects.values_list("number", flat=True))


def test_at_risk_after_three_quarters_of_the_target_then_breached(client, world):
    client.force_login(world.ana)
    # Critical incident: first response 15 min on 24x7; at risk from 11 min 15 s.
    world.clock.advance(minutes=12)
    response = client.get("/console/?queue=at-risk")
    assert numbers(response) == [world.critical.number]
    assert "vence en 3 min" in response.content.decode()
    assert numbers(client.get("/console/?queue=breached")) == []

    cache.clear()
    world.clock.advance(minutes=8)  # 5 min past the first-response target
    response = client.get("/console/?queue=breached")
    assert numbers(response) == [world.critical.number]
    assert "vencido hace 5 min" in response.content.decode()
    assert world.critical.number not in numbers(client.get("/console/?queue=at-risk"))


def test_at_risk_is_ordered_by_the_nearest_deadline(client, world):
    # Moderate requests: first response 4 business hours; at risk from 3 h.
    world.clock.advance(hours=3, minutes=30)
    client.force_login(world.ana)
    got = numbers(client.get("/console/?queue=at-risk"))
    # Ordered by the at-risk clock's due instant: the requests' first response (4 business
    # hours from 09:00) and the incident's resolution (4 h on 24x7) all fall due at 13:00,
    # so the case number decides. (The incident's breached first response puts it in
    # "breached" as well; it does not move it up here.)
    assert got == [c.number for c in (world.mine, world.unassigned, world.critical, world.globex)]
    assert world.awaiting.number not in got  # paused while waiting for the customer
    world.clock.advance(minutes=-30)  # 12:30: a request opened now is due later than all
    later = cases.open_case(
        actor=world.ana, channel=world.mine.channel, subject="Más tarde", acknowledge=False
    )
    world.clock.advance(hours=3, minutes=30)  # 16:00: the first three are breached
    cache.clear()
    assert numbers(client.get("/console/?queue=at-risk")) == [later.number]


def test_deadline_in_business_time(world):
    # Friday 18:00: a 4 h target opened now is due Saturday 11:00 (19:00 close, Sat 08:00).
    friday = dt.datetime(2026, 3, 6, 18, 0, tzinfo=world.clock.at.tzinfo)
    world.clock.set(friday)
    case = cases.open_case(
        actor=world.ana,
        channel=world.mine.channel,
        subject="Viernes por la tarde",
        type="request",
        priority="moderate",
        acknowledge=False,
    )
    row = selectors.rows_for([case], now=friday)[0]
    assert row["deadline"]["text"] == "vence en 4 h"
    assert row["deadline"]["state"] == "running"


@pytest.mark.parametrize(
    "seconds, words",
    [
        (0, "0 min"),
        (59, "0 min"),
        (600, "10 min"),
        (3 * 3600, "3 h"),
        (7800, "2 h 10 min"),
        (90000, "1 d 1 h"),
    ],
)
def test_durations_in_words(seconds, words):
    assert selectors.duration(seconds) == words


def test_escalations_waiting_for_my_verification(client, world):
    escalations.request_escalation(case=world.mine, actor=world.ana, reason="No avanzamos")
    client.force_login(world.supervisor)  # responsible for level 2
    response = client.get("/console/?queue=verify")
    assert numbers(response) == [world.mine.number]
    assert count_of(response, "verify") == 1
    client.force_login(world.ana)  # level 1 does not verify a climb to level 2
    assert numbers(client.get("/console/?queue=verify")) == []


def test_counts_of_every_queue(client, world):
    world.clock.advance(minutes=12)
    client.force_login(world.ana)
    response = client.get("/console/queues/counts?queue=mine")
    assert response.status_code == 200
    got = {q.slug: count_of(response, q.slug) for q in selectors.QUEUES}
    assert got == {
        "mine": 1,
        "unassigned": 1,
        "at-risk": 1,
        "breached": 0,
        "critical": 1,
        "verify": 0,
        "awaiting": 1,
        "all": 6,
    }
    assert 'hx-trigger="every 10s"' in response.content.decode()


def test_shared_counts_are_cached_briefly_personal_ones_are_not(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.ana)
    client.get("/console/queues/counts")
    cases.open_case(
        actor=world.ana,
        channel=world.mine.channel,
        subject="Otro",
        assignee=world.ana,
        acknowledge=False,
    )
    response = client.get("/console/queues/counts")
    assert count_of(response, "mine") == 2  # personal: counted on every poll
    assert count_of(response, "all") == 6  # shared: at most COUNT_SECONDS old
    selectors.forget_counts()
    assert count_of(client.get("/console/queues/counts"), "all") == 7


def test_filters(client, world):
    client.force_login(world.ana)
    assert numbers(client.get("/console/?queue=all&type=incident")) == [world.critical.number]
    got = numbers(client.get("/console/?queue=all&status=cancelled"))
    assert got == [world.cancelled.number]
    assert numbers(client.get("/console/?queue=all&organization=globex")) == [world.globex.number]
    assert numbers(client.get("/console/?queue=all&organization=Globex Ltda.")) == [
        world.globex.number
    ]
    assert numbers(client.get("/console/?queue=all&channel=portal")) == [world.critical.number]
    assert numbers(client.get("/console/?queue=all&priority=critical&level=1")) == [
        world.critical.number
    ]
    assert numbers(client.get("/console/?queue=all&level=2")) == []
    assert numbers(client.get("/console/?queue=all&organization=nadie")) == []
    assert numbers(client.get("/console/?queue=all&channel=no-existe")) == []


def test_bad_parameters_fall_back_instead_of_failing(client, world):
    client.force_login(world.ana)
    for query in (
        "queue=nope",
        "sort=drop",
        "page=-3",
        "page=abc",
        "level=x",
        "status=zzz",
        "page=99999999",
    ):
        assert client.get(f"/console/?{query}").status_code == 200, query


def test_sort_by_number_both_ways(client, world):
    client.force_login(world.ana)
    up = numbers(client.get("/console/?queue=all&sort=number"))
    assert up == sorted(up)
    assert numbers(client.get("/console/?queue=all&sort=-number")) == list(reversed(up))


def test_sort_by_priority(client, world):
    client.force_login(world.ana)
    got = numbers(client.get("/console/?queue=all&sort=priority"))
    assert got[0] == world.critical.number


def test_pages(client, world, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 4)
    client.force_login(world.ana)
    first = client.get("/console/?queue=all&sort=number")
    assert len(numbers(first)) == 4
    assert 'rel="next"' in first.content.decode()
    second = client.get("/console/?queue=all&sort=number&page=2")
    assert len(numbers(second)) == 2
    assert 'rel="prev"' in second.content.decode() and 'rel="next"' not in second.content.decode()


def test_bulk_assign_to_me(client, world):
    client.force_login(world.beto)
    response = client.post(
        "/console/queues/bulk",
        {
            "cases": [world.mine.number, world.unassigned.number],
            "action": "assign-me",
            "next": "/console/?queue=all",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/console/?queue=all"
    assert {
        c.assignee for c in Case.objects.filter(pk__in=[world.mine.pk, world.unassigned.pk])
    } == {world.beto}


def test_bulk_assign_to_an_agent_and_to_a_group(client, world):
    client.force_login(world.ana)
    client.post(
        "/console/queues/bulk",
        {"cases": [world.mine.number], "action": "assign-agent", "agent": world.beto.pk},
    )
    world.mine.refresh_from_db()
    assert world.mine.assignee == world.beto
    client.post(
        "/console/queues/bulk",
        {"cases": [world.mine.number], "action": "assign-group", "group": world.group.pk},
    )
    world.mine.refresh_from_db()
    assert (world.mine.assignee, world.mine.group) == (None, world.group)


def test_bulk_status_change_explains_each_refusal(client, world):
    client.force_login(world.ana)
    response = client.post(
        "/console/queues/bulk",
        {
            "cases": [world.mine.number, world.cancelled.number],
            "action": "status",
            "status": "resolved",
        },
        follow=True,
    )
    page = response.content.decode()
    world.mine.refresh_from_db()
    assert world.mine.status == "resolved"
    assert f"{world.cancelled.number} no cambió" in page
    assert "no puede cambiar de estado" in page  # the transition table's explanation


def test_bulk_without_cases_or_action_says_what_is_missing(client, world):
    client.force_login(world.ana)
    page = client.post(
        "/console/queues/bulk", {"action": "assign-me"}, follow=True
    ).content.decode()
    assert "Elija al menos un caso" in page
    page = client.post(
        "/console/queues/bulk", {"cases": [world.mine.number]}, follow=True
    ).content.decode()
    assert "Elija una acción" in page
    page = client.post(
        "/console/queues/bulk", {"cases": ["CS9999999"], "action": "assign-me"}, follow=True
    ).content.decode()
    assert "No existe el caso CS9999999" in page


def test_bulk_goes_back_only_into_the_console(client, world):
    client.force_login(world.ana)
    response = client.post(
        "/console/queues/bulk",
        {"cases": [world.mine.number], "action": "assign-me", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/console/"


def test_customers_get_not_found(client, world, customer):
    client.force_login(customer)
    assert client.get("/console/").status_code == 404
    assert client.get("/console/queues/counts").status_code == 404
    response = client.post(
        "/console/queues/bulk", {"cases": [world.mine.number], "action": "assign-me"}
    )
    assert response.status_code == 404
    world.mine.refresh_from_db()
    assert world.mine.assignee == world.ana


def _more_cases(world, n):
    for i in range(n):
        case = cases.open_case(
            actor=world.ana,
            channel=world.mine.channel,
            subject=f"Caso adicional {i}",
            assignee=[None, world.ana, world.supervisor][i % 3],
            group=world.group if i % 2 else None,
            type=["request", "incident"][i % 2],
            priority=["critical", "high", "moderate", "low"][i % 4],
            requester=world.mine.requester,
            acknowledge=False,
        )
        if i % 4 == 1:
            cases.change_status(case=case, actor=world.ana, status="awaiting_info")
        escalations.request_escalation(case=case, actor=world.ana) if i % 5 == 0 else None


@pytest.mark.parametrize("queue", [q.slug for q in selectors.QUEUES])
@pytest.mark.parametrize("sort", ["", "priority", "deadline", "-created"])
def test_a_queue_page_runs_a_fixed_number_of_statements(
    client, world, queue, sort, django_assert_max_num_queries
):
    client.force_login(world.supervisor)
    _more_cases(world, 6)
    world.clock.advance(hours=3, minutes=30)
    url = f"/console/?queue={queue}&sort={sort}"
    client.get(url)  # warm the per-process snapshots (channels, schedules)
    cache.clear()
    with django_assert_max_num_queries(MAX_STATEMENTS) as few:
        client.get(url)
    world.clock.advance(minutes=-30)
    _more_cases(world, 12)
    world.clock.advance(minutes=30)
    cache.clear()
    with django_assert_max_num_queries(MAX_STATEMENTS) as many:
        response = client.get(url)
    assert len(numbers(response)) >= 1
    assert len(many.captured_queries) == len(few.captured_queries)


# session, user, groups+levels (2), page, timers, counts (8), agents, groups, plus margin
MAX_STATEMENTS = 20


def test_counts_poll_runs_a_fixed_number_of_statements(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.ana)
    client.get("/console/queues/counts")
    with django_assert_max_num_queries(8) as cached:
        client.get("/console/queues/counts")
    _more_cases(world, 10)
    with django_assert_max_num_queries(8) as again:
        client.get("/console/queues/counts")
    assert len(cached.captured_queries) == len(again.captured_queries)


def test_the_queues_in_english(client, world):
    world.clock.advance(minutes=20)
    client.force_login(world.ana)
    client.cookies["django_language"] = "en"
    page = client.get("/console/?queue=breached").content.decode()
    assert "My cases" in page and "Critical incidents" in page
    assert "overdue by 5 min" in page
    assert "Search cases" in page


# --- At risk and breached as the sweep leaves them (SlaTimer.case_active) ---------------


def _sweep(world):
    from atiende.sla import services as sla

    sla.sweep(now=world.clock.at)
    cache.clear()


def test_a_clock_the_sweep_flagged_is_at_risk_until_it_falls_due(client, world):
    client.force_login(world.ana)
    world.clock.advance(minutes=12)  # the critical incident's first response is at risk
    _sweep(world)
    response = client.get("/console/?queue=at-risk")
    assert numbers(response) == [world.critical.number]
    assert count_of(response, "at-risk") == 1
    world.clock.advance(minutes=4)  # due at 9:15: now past it, recorded by the sweep
    _sweep(world)
    response = client.get("/console/?queue=breached")
    assert numbers(response) == [world.critical.number]
    assert count_of(response, "breached") == 1
    assert count_of(response, "at-risk") == 0


def test_a_finished_case_leaves_the_at_risk_and_breached_queues(client, world):
    client.force_login(world.ana)
    world.clock.advance(minutes=20)
    _sweep(world)  # records the critical incident's first-response breach
    assert numbers(client.get("/console/?queue=breached")) == [world.critical.number]
    cases.change_status(case=world.critical, actor=world.ana, status="cancelled")
    cache.clear()
    response = client.get("/console/?queue=breached")
    assert numbers(response) == []
    assert count_of(response, "breached") == 0
    world.clock.advance(hours=3, minutes=30)  # the others' clocks are at risk; not this one
    assert world.critical.number not in numbers(client.get("/console/?queue=at-risk"))


def test_a_reopened_case_comes_back_with_its_breach(client, world):
    client.force_login(world.ana)
    world.clock.advance(minutes=20)
    _sweep(world)
    cases.change_status(case=world.critical, actor=world.ana, status="resolved")
    cache.clear()
    assert numbers(client.get("/console/?queue=breached")) == []
    world.clock.advance(minutes=5)
    cases.change_status(case=world.critical, actor=world.ana, status="open")
    cache.clear()
    response = client.get("/console/?queue=breached")
    assert numbers(response) == [world.critical.number]
    assert count_of(response, "breached") == 1


def test_a_filtered_or_deep_sla_page_agrees_with_the_first_page(client, world, monkeypatch):
    # The first pages come from the clocks' indexes; filters and deep pages from the
    # general query. Both must list the same cases.
    client.force_login(world.ana)
    world.clock.advance(hours=3, minutes=30)
    fast = numbers(client.get("/console/?queue=at-risk"))
    monkeypatch.setattr(selectors, "SLA_FAST_ROWS", 0)
    assert set(numbers(client.get("/console/?queue=at-risk"))) == set(fast)
    assert numbers(client.get("/console/?queue=at-risk&type=incident")) == [world.critical.number]


def test_the_all_count_of_a_large_help_desk_is_approximate(client, world, monkeypatch):
    client.force_login(world.ana)
    monkeypatch.setattr(selectors, "EXACT_ALL_UP_TO", 3)
    response = client.get("/console/?queue=all")
    top = max(Case.objects.values_list("pk", flat=True))
    assert count_of(response, "all") == top
    assert f"(≈ {top})" in response.content.decode()
    assert count_of(response, "mine") == 1  # the others stay exact
