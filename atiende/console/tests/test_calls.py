# ruff: noqa: F811  (the phone tests' fixtures, imported below, are parameters here)
"""The phone lines in the console: the call log page, the live region (who a ringing call
notifies, the answering agent's screen pop), the one-step actions and `tel:` links."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template

from atiende.accounts import services as accounts
from atiende.cases import services as cases
from atiende.cases.models import Case
from atiende.channels.phone.models import AgentPhone, Call
from atiende.channels.phone.tests.conftest import (  # noqa: F401  (fixtures)
    _frozen,
    event,
    lines,
    pbx,
    run,
)
from atiende.core.audit import AuditEntry
from atiende.customers import services as customers

LIVE = "/console/llamadas/en-vivo"
LOG = "/console/llamadas/"


@pytest.fixture
def soporte(db):
    return accounts.ensure_group(slug="soporte-tecnico", name="Grupo de soporte técnico")


@pytest.fixture
def ana(agent, soporte):
    AgentPhone.objects.create(user=agent, extension="201", phone="+573009990001")
    soporte.members.add(agent)
    return agent


@pytest.fixture
def bruno(db):
    """An agent outside the line's group."""
    return accounts.create_user(email="bruno@mesa.test", name="Bruno Agente", role="agent")


@pytest.fixture
def carla(acme):
    return customers.create_contact(name="Carla Cliente", organization=acme, phones=["3001234567"])


@pytest.fixture
def grouped(lines, soporte):
    """Both lines are attended by the support group (setting `group`)."""
    for line in lines.values():
        line.settings = {**line.settings, "group": "soporte-tecnico"}
        line.save()
    return lines


@pytest.fixture
def open_case(lines, carla):
    return cases.open_case(
        actor=None,
        channel=lines["linea-bogota"],
        subject="No puede firmar el contrato",
        requester=carla,
        type="incident",
        priority="high",
        acknowledge=False,
    )


def live(client, user) -> str:
    client.force_login(user)
    response = client.get(LIVE)
    assert response.status_code == 200
    return response.content.decode()


def answered(pbx, call_id="c-1", **fields):
    pbx.send(event("newCall", call_id, **fields))
    pbx.send(event("answer", call_id, answeringNumber="201", **fields))
    run()
    return Call.objects.get(call_id=call_id)


# -- Who a ringing call notifies ------------------------------------------------------------


def test_a_ringing_call_notifies_only_the_agents_of_its_lines_group(
    _frozen, client, pbx, grouped, ana, bruno, carla
):
    pbx.send(event("newCall"))
    run()
    assert Call.objects.get().group.slug == "soporte-tecnico"
    theirs = live(client, ana)
    assert "Llamada entrante" in theirs and "Carla Cliente" in theirs and "ACME" in theirs
    assert "Llamada entrante" not in live(client, bruno)


def test_the_pbx_queue_names_the_group_and_the_agents_it_rang_see_the_call(
    _frozen, client, pbx, grouped, ana, bruno
):
    ventas = accounts.ensure_group(slug="ventas", name="Ventas")
    ventas.members.add(bruno)
    pbx.send(event("newCall", "q-1", queue="ventas"))
    pbx.send(event("newCall", "q-2", user=["Ana Agente"], queue="ventas"))
    run()
    assert Call.objects.get(call_id="q-1").group == ventas
    assert live(client, bruno).count("Llamada entrante") == 2
    assert live(client, ana).count("Llamada entrante") == 1  # only the one that rang her


def test_a_line_without_a_group_notifies_every_agent(_frozen, client, pbx, lines, bruno):
    pbx.send(event("newCall"))
    run()
    assert "Llamada entrante" in live(client, bruno)


def test_an_ended_call_no_longer_rings(_frozen, client, pbx, grouped, ana):
    pbx.send(event("newCall"))
    pbx.send(event("hangup", cause="cancel"))
    run()
    assert "Llamada entrante" not in live(client, ana)


# -- The screen pop -------------------------------------------------------------------------


def test_the_answering_agent_sees_caller_organization_open_cases_sla_and_level(
    _frozen, client, pbx, grouped, ana, bruno, carla, open_case
):
    answered(pbx)
    page = live(client, ana)
    assert "Llamada en curso" in page
    assert "Carla Cliente" in page and "ACME S.A.S." in page
    assert open_case.number in page and "Nivel 1" in page
    assert "Primera respuesta" in page or "primera respuesta" in page.lower()
    assert "Crear caso desde la llamada" in page
    assert f"Agregar la llamada al caso {open_case.number}" in page
    assert 'href="tel:+573001234567"' in page and "300 1234567" in page
    assert "Llamada en curso" not in live(client, bruno)


def test_the_pop_stays_a_few_minutes_after_the_hangup_until_the_call_is_on_a_case(
    _frozen, client, pbx, grouped, ana, carla
):
    answered(pbx)
    _frozen.advance(minutes=2)
    pbx.send(event("hangup", cause="normalClearing", answeringNumber="201"))
    run()
    assert "Llamada terminada" in live(client, ana)
    _frozen.advance(minutes=6)
    assert "Llamada terminada" not in live(client, ana)


def test_create_case_from_the_call_in_one_step(_frozen, client, pbx, grouped, ana, carla):
    call = answered(pbx)
    client.force_login(ana)
    response = client.post(f"/console/llamadas/{call.pk}/caso")
    call.refresh_from_db()
    assert call.case is not None
    assert response.status_code == 302
    assert response["Location"] == f"/console/cases/{call.case.number}"
    assert (call.case.requester, call.case.organization.slug) == (carla, "acme")
    assert AuditEntry.objects.filter(action="call.attached", case=call.case).exists()
    # once on a case, the pop offers no second case
    assert "Crear caso desde la llamada" not in live(client, ana)


def test_add_the_call_to_an_open_case_in_one_step(
    _frozen, client, pbx, grouped, ana, carla, open_case
):
    call = answered(pbx)
    client.force_login(ana)
    response = client.post(f"/console/llamadas/{call.pk}/caso", {"case": open_case.number})
    assert response["Location"] == f"/console/cases/{open_case.number}"
    call.refresh_from_db()
    assert call.case == open_case and Case.objects.count() == 1


def test_a_call_already_on_another_case_is_refused_with_a_409(
    _frozen, client, pbx, grouped, ana, carla, open_case
):
    call = answered(pbx)
    client.force_login(ana)
    client.post(f"/console/llamadas/{call.pk}/caso")
    response = client.post(f"/console/llamadas/{call.pk}/caso", {"case": open_case.number})
    assert response.status_code == 409
    assert "ya está en el caso" in response.content.decode()
    bad = client.post(f"/console/llamadas/{call.pk}/caso", {"case": "CS9999999"})
    assert bad.status_code == 404 and "No existe el caso" in bad.content.decode()
    assert client.post("/console/llamadas/999999/caso").status_code == 404
    junk = client.post(f"/console/llamadas/{call.pk}/caso", {"case": "CS1\x00"})
    assert junk.status_code == 422 and "no es un número de caso" in junk.content.decode()


def test_the_poll_answers_204_while_nothing_changed(_frozen, client, pbx, grouped, ana):
    pbx.send(event("newCall"))
    run()
    page = live(client, ana)
    version = re.search(r"en-vivo\?v=(\w+)", page).group(1)
    assert client.get(LIVE, {"v": version}).status_code == 204
    pbx.send(event("answer", answeringNumber="201"))
    run()
    changed = client.get(LIVE, {"v": version})
    assert changed.status_code == 200 and "Llamada en curso" in changed.content.decode()


def test_the_poll_stops_when_signed_out_and_customers_get_404(client, customer, db):
    assert client.get(LIVE).status_code == 286
    client.force_login(customer)
    assert client.get(LIVE).status_code == 404
    assert client.get(LOG).status_code == 404


def test_polling_costs_a_fixed_number_of_queries(
    _frozen, client, pbx, grouped, ana, carla, django_assert_max_num_queries
):
    def cost() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.force_login(ana)
        client.get(LIVE)  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIVE).status_code == 200
        return len(ctx.captured_queries)

    cases.open_case(
        actor=None,
        channel=grouped["linea-bogota"],
        subject="uno",
        requester=carla,
        acknowledge=False,
    )
    answered(pbx, "p-0")
    few = cost()
    for i in range(8):
        cases.open_case(
            actor=None,
            channel=grouped["linea-bogota"],
            subject=f"caso {i}",
            requester=carla,
            acknowledge=False,
        )
        pbx.send(event("newCall", f"r-{i}", **{"from": f"31577788{i:02d}"}))
    run()
    many = cost()
    assert many == few
    with django_assert_max_num_queries(8):
        client.get(LIVE)


# -- The call log ---------------------------------------------------------------------------


def test_the_call_log_shows_names_resolved_and_marks_ambiguous_numbers(
    _frozen, client, pbx, grouped, ana, carla, globex
):
    answered(pbx)
    pbx.send(event("newCall", "m-1", **{"from": "315 777 8899"}))
    pbx.send(event("hangup", "m-1", cause="noAnswer", **{"from": "315 777 8899"}))
    run()
    shared = Call.objects.get(call_id="m-1")
    other = customers.create_contact(name="Gloria Globex", organization=globex)
    shared.contacts.add(other, carla)
    Call.objects.filter(pk=shared.pk).update(ambiguous=True, contact=None, organization=None)
    client.force_login(ana)
    page = client.get(LOG).content.decode()
    assert "Carla Cliente" in page and "ACME S.A.S." in page
    assert "Varios contactos con este número" in page
    assert "Gloria Globex (Globex Ltda.)" in page
    assert "Perdida" in page and "Marcar como atendida" in page
    assert 'href="tel:+573157778899"' in page


def test_the_call_log_filters_and_pages(_frozen, client, pbx, grouped, ana):
    for i in range(30):
        pbx.send(event("newCall", f"l-{i}", queue="soporte" if i % 2 else ""))
        pbx.send(event("hangup", f"l-{i}", cause="noAnswer" if i < 5 else "normalClearing"))
    pbx.send(event("newCall", "n-1"), line="linea-nacional", token="token-nacional-de-prueba")
    run()
    client.force_login(ana)
    first = client.get(LOG).content.decode()
    assert first.count('id="llamada-') == 25 and "Página 1 de 2" in first
    assert "pagina=2" in first
    missed = client.get(LOG, {"perdida": "si"}).content.decode()
    assert missed.count('id="llamada-') == 5
    queue = client.get(LOG, {"cola": "soporte"}).content.decode()
    assert queue.count('id="llamada-') == 15
    line = client.get(LOG, {"linea": "linea-nacional"}).content.decode()
    assert "Timbrando ahora" in line and line.count('id="llamada-') == 1
    assert line.count('id="timbrando-') == 1
    ended = client.get(LOG, {"estado": "ended", "linea": "linea-nacional"}).content.decode()
    assert "No hay llamadas con estos filtros" in ended


def test_an_agent_sees_the_log_of_their_queues_and_a_supervisor_all(
    _frozen, client, pbx, grouped, ana, bruno, supervisor
):
    pbx.send(event("newCall"))
    run()
    client.force_login(bruno)
    assert 'id="llamada-' not in client.get(LOG).content.decode()
    client.force_login(supervisor)
    assert 'id="llamada-' in client.get(LOG).content.decode()


def test_mark_done_is_audited_and_shown(_frozen, client, pbx, grouped, ana):
    pbx.send(event("newCall"))
    pbx.send(event("hangup", cause="noAnswer"))
    run()
    call = Call.objects.get()
    client.force_login(ana)
    response = client.post(
        f"/console/llamadas/{call.pk}/atendida", {"next": "/console/llamadas/?perdida=si"}
    )
    assert response.status_code == 302 and response["Location"] == "/console/llamadas/?perdida=si"
    call.refresh_from_db()
    assert (call.done_by, call.done_at is not None) == (ana, True)
    entry = AuditEntry.objects.get(action="call.done")
    assert entry.actor == ana and entry.case == call.case
    page = client.get(LOG).content.decode()
    assert "Atendida por Ana Agente" in page and "Marcar como atendida" not in page
    assert 'id="llamada-' not in client.get(LOG, {"pendientes": "1"}).content.decode()
    # twice changes nothing; an answered call is not "missed"
    client.post(f"/console/llamadas/{call.pk}/atendida")
    assert AuditEntry.objects.filter(action="call.done").count() == 1
    other = answered(pbx, "a-1")
    refused = client.post(f"/console/llamadas/{other.pk}/atendida")
    assert refused.status_code == 409 and "Solo se marcan" in refused.content.decode()


def test_an_offsite_next_is_ignored(_frozen, client, pbx, grouped, ana):
    pbx.send(event("newCall"))
    pbx.send(event("hangup", cause="busy"))
    run()
    client.force_login(ana)
    response = client.post(
        f"/console/llamadas/{Call.objects.get().pk}/atendida", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/console/llamadas/"


def test_the_console_links_to_the_calls_page(client, agent):
    client.force_login(agent)
    page = client.get("/console/").content.decode()
    assert 'href="/console/llamadas/"' in page and 'id="llamadas-en-vivo"' in page


# -- tel: links -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "html"),
    [
        ("+576017442727", '<a class="tel" href="tel:+576017442727">(601) 7442727</a>'),
        ("6017442727", '<a class="tel" href="tel:+576017442727">(601) 7442727</a>'),
        ("+573001234567", '<a class="tel" href="tel:+573001234567">300 1234567</a>'),
        ("+12025550143", '<a class="tel" href="tel:+12025550143">+1 202-555-0143</a>'),
        ("anonymous", "anonymous"),
        ("<b>12</b>", "&lt;b&gt;12&lt;/b&gt;"),
        ("", ""),
    ],
)
def test_the_tel_filter_links_e164_and_shows_the_national_format(number, html):
    out = Template("{% load phone_links %}{{ n|tel }}").render(Context({"n": number}))
    assert out == html


def test_a_customer_cannot_reach_a_call_through_the_console(_frozen, client, pbx, customer):
    pbx.send(event("newCall"))
    pbx.send(event("hangup", cause="busy"))
    run()
    call = Call.objects.get()
    client.force_login(customer)
    for url in (f"/console/llamadas/{call.pk}/caso", f"/console/llamadas/{call.pk}/atendida"):
        response = client.post(url)
        assert response.status_code == 404 and "+57300" not in response.content.decode()
    call.refresh_from_db()
    assert call.done_at is None


def test_the_calls_pages_speak_english_on_request(
    _frozen, client, pbx, grouped, ana, carla, open_case
):
    answered(pbx)
    client.cookies["django_language"] = "en"
    page = live(client, ana)
    assert "Create a case from the call" in page and "Level 1" in page
    assert f"Add the call to case {open_case.number}" in page
    log = client.get(LOG).content.decode()
    assert "Latest calls" in log and "Filter" in log


def test_the_live_query_reads_indexes_not_the_call_history(ana, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from atiende.channels.phone import selectors
    from atiende.core import clock

    if connection.vendor != "sqlite":
        pytest.skip("the plan of a tiny table on PostgreSQL is a sequential scan anyway")
    with CaptureQueriesContext(connection) as ctx:
        selectors.live_calls(ana, now=clock.now())
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + ctx.captured_queries[-1]["sql"])
        plan = " | ".join(row[-1] for row in cursor.fetchall())
    assert "call_state (state=?)" in plan
    assert "call_agent_live (agent_id=? AND state=?)" in plan
    assert "call_agent_live (agent_id=? AND state=? AND ended_at>?)" in plan
    assert "SCAN phone_call" not in plan


def test_the_call_log_costs_a_fixed_number_of_queries(_frozen, client, pbx, grouped, ana):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost() -> int:
        client.force_login(ana)
        client.get(LOG)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LOG).status_code == 200
        return len(ctx.captured_queries)

    def calls(start: int, n: int) -> None:
        for i in range(start, start + n):
            pbx.send(event("newCall", f"k-{i}", queue="soporte", **{"from": f"3157778{i:03d}"}))
            if i % 3:
                pbx.send(event("hangup", f"k-{i}", cause="noAnswer", **{"from": f"3157778{i:03d}"}))
        run()

    calls(0, 3)
    few = cost()
    calls(3, 27)
    assert cost() == few


@pytest.mark.parametrize(
    "query",
    [
        {"linea": "\x00"},
        {"cola": "a\x00b"},
        {"perdida": "talvez", "estado": "volando", "pagina": "-3"},
        {"pagina": "9999"},
        {"cola": "x" * 5000},
    ],
)
def test_odd_filters_never_break_the_call_log(client, agent, query, db):
    client.force_login(agent)
    assert client.get(LOG, query).status_code == 200
    assert client.get(LIVE, {"v": "\x00" * 3}).status_code == 200
