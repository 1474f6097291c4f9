"""The console's search: a case number jumps to the case; words find subjects, messages,
internal notes, contacts and organizations without minding accents or case; Spanish
stemming on PostgreSQL; agents only; a fixed number of statements."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from atiende.accounts.models import SupportGroup
from atiende.cases import services as cases
from atiende.cases.models import Note
from atiende.console.tests.queues_world import world_fixture  # noqa: F401
from atiende.search import schema
from atiende.search.selectors import matching_case_ids

pytestmark = pytest.mark.django_db


def found(response) -> list[str]:
    return re.findall(
        r'class="case-link" href="/console/cases/(CS\d{7})"', response.content.decode()
    )


@pytest.fixture
def signed_in(client, world):
    client.force_login(world.ana)
    return client


def test_a_case_number_jumps_to_the_case(signed_in, world):
    for typed in (world.mine.number, world.mine.number.lower(), " cs1 ", "1", "CS0000001"):
        response = signed_in.get("/console/search", {"q": typed})
        assert response.status_code == 302, typed
        assert response["Location"] == f"/console/cases/{world.mine.number}"


def test_an_unknown_case_number_says_so(signed_in, world):
    response = signed_in.get("/console/search", {"q": "CS0999999"})
    assert response.status_code == 200
    assert "No existe el caso CS0999999" in response.content.decode()


def test_words_without_accents_find_accented_text(signed_in, world):
    assert found(signed_in.get("/console/search", {"q": "facturacion"})) == [world.mine.number]
    assert found(signed_in.get("/console/search", {"q": "FACTURACIÓN portal"})) == [
        world.mine.number
    ]
    assert found(signed_in.get("/console/search", {"q": "caida"})) == [world.critical.number]


def test_every_word_must_match(signed_in, world):
    assert found(signed_in.get("/console/search", {"q": "facturacion token"})) == []


def test_messages_and_internal_notes_are_searchable(signed_in, world):
    cases.add_note(
        case=world.unassigned,
        body_text="El cliente envió el comprobante de pago.",
        actor=world.ana,
        visibility="internal",
    )
    cases.add_note(
        case=world.awaiting,
        body_text="Adjunto la cédula del representante legal",
        author_contact=world.mine.requester,
    )
    assert found(signed_in.get("/console/search", {"q": "comprobante"})) == [
        world.unassigned.number
    ]
    assert found(signed_in.get("/console/search", {"q": "cedula"})) == [world.awaiting.number]


def test_automatic_notes_are_not_indexed(signed_in, world):
    """Our own wording (acknowledgements, status notices) is in every case: searching it
    would find them all. What people write is found."""
    auto = cases.add_note(
        case=world.unassigned, body_text="Aviso automático: radicado zanahoria", automatic=True
    )
    person = cases.add_note(
        case=world.awaiting,
        body_text="Pregunta por la zanahoria",
        author_contact=world.mine.requester,
    )
    assert matching_case_ids("zanahoria") == [world.awaiting.pk]
    # a note that becomes automatic leaves the index; one that stops being so comes back
    Note.objects.filter(pk=person.pk).update(automatic=True)
    assert matching_case_ids("zanahoria") == []
    Note.objects.filter(pk=auto.pk).update(automatic=False)
    assert matching_case_ids("zanahoria") == [world.unassigned.pk]
    Note.objects.filter(pk=auto.pk).update(body_text="Aviso: pepino")
    assert matching_case_ids("pepino") == [world.unassigned.pk]
    # a rebuild follows the same rule
    schema.rebuild(connection)
    assert matching_case_ids("zanahoria") == [] and matching_case_ids("pepino") == [
        world.unassigned.pk
    ]


def test_the_migration_drops_automatic_notes_already_indexed(world):
    auto = cases.add_note(case=world.unassigned, body_text="Radicado rábano", automatic=True)
    schema.set_triggers(connection, enabled=False)  # as an index written before 0005
    try:
        schema.rebuild(connection)
        with connection.cursor() as cur:  # the document as the old triggers wrote it
            if connection.vendor == "postgresql":
                cur.execute(
                    "INSERT INTO search_document (id, case_id, document)"
                    " VALUES (%s, %s, to_tsvector('spanish', 'rábano'))",
                    [auto.pk * 2 + 1, auto.case_id],
                )
            else:
                cur.execute(
                    "INSERT INTO search_document (rowid, body, case_id) VALUES (%s, %s, %s)",
                    [auto.pk * 2 + 1, auto.body_text, auto.case_id],
                )
    finally:
        schema.set_triggers(connection, enabled=True)
    assert matching_case_ids("rabano") == [world.unassigned.pk]
    schema.note_triggers(connection)
    assert matching_case_ids("rabano") == []
    cases.add_note(
        case=world.awaiting, body_text="Otro rábano", author_contact=world.mine.requester
    )
    assert matching_case_ids("rabano") == [world.awaiting.pk]


def test_contact_and_organization_are_searchable(signed_in, world):
    got = found(signed_in.get("/console/search", {"q": "perez"}))
    assert world.mine.number in got and world.globex.number not in got
    assert found(signed_in.get("/console/search", {"q": "globex"})) == [world.globex.number]
    assert world.mine.number in found(signed_in.get("/console/search", {"q": "pedro@acme.com.co"}))


def test_the_index_follows_changes(signed_in, world):
    cases.update_case(case=world.mine, actor=world.ana, subject="Problema con el certificado")
    assert found(signed_in.get("/console/search", {"q": "facturacion"})) == []
    assert world.mine.number in found(signed_in.get("/console/search", {"q": "problema"}))


def test_prefixes_or_stems_find_related_words(signed_in, world):
    # "factura" is a prefix of "facturación" (SQLite) and shares its stem (PostgreSQL).
    assert world.mine.number in found(signed_in.get("/console/search", {"q": "factura"}))


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_spanish_stemming_on_postgresql(signed_in, world):
    # "renovaciones" and "renovación" share the stem "renov"; no prefix of one another.
    assert found(signed_in.get("/console/search", {"q": "renovaciones"})) == [
        world.unassigned.number
    ]


def test_query_syntax_is_not_the_databases(signed_in, world):
    for typed in ('"', "*", "a OR b", "NEAR(", "-x", "':*", "&|!", "\x00", "é" * 300):
        assert signed_in.get("/console/search", {"q": typed}).status_code == 200, typed


def test_an_empty_search_explains_what_to_type(signed_in, world):
    response = signed_in.get("/console/search", {"q": ""})
    assert response.status_code == 200
    assert "número de caso" in response.content.decode()


def test_customers_cannot_search(client, world, customer):
    client.force_login(customer)
    assert client.get("/console/search", {"q": "facturacion"}).status_code == 404
    assert client.get("/console/search", {"q": world.mine.number}).status_code == 404


def test_anonymous_visitors_go_to_sign_in(client, world):
    response = client.get("/console/search", {"q": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_search_box_is_on_every_console_page(signed_in, world):
    page = signed_in.get("/console/").content.decode()
    assert 'role="search"' in page and "Buscar casos" in page


def test_search_runs_a_fixed_number_of_statements(signed_in, world, django_assert_max_num_queries):
    def open_some(n):
        for i in range(n):
            cases.open_case(
                actor=world.ana,
                channel=world.mine.channel,
                subject=f"Consulta numerada {i}",
                requester=world.mine.requester,
                group=SupportGroup.objects.first(),
                acknowledge=False,
            )

    open_some(2)
    # A word no case of the world uses (telling a customer "awaiting your answer" writes a
    # public note that mentions "caso").
    signed_in.get("/console/search", {"q": "numerada"})
    with django_assert_max_num_queries(12) as few:
        signed_in.get("/console/search", {"q": "numerada"})
    open_some(30)
    with django_assert_max_num_queries(12) as many:
        response = signed_in.get("/console/search", {"q": "numerada"})
    assert len(found(response)) == 32
    assert len(many.captured_queries) == len(few.captured_queries)


def test_rebuilding_the_index_gives_the_same_answers(world):
    before = matching_case_ids("facturacion")
    schema.rebuild(connection)
    assert matching_case_ids("facturacion") == before == [world.mine.pk]


def test_a_bulk_load_without_triggers_then_a_rebuild(world):
    schema.set_triggers(connection, enabled=False)
    try:
        cases.update_case(case=world.mine, actor=world.ana, subject="Sin índice todavía")
        assert matching_case_ids("indice") == []
    finally:
        schema.set_triggers(connection, enabled=True)
    schema.rebuild(connection)
    assert matching_case_ids("indice") == [world.mine.pk]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_lists_the_newest_cases_first(world):
    group = SupportGroup.objects.first()
    opened = [
        cases.open_case(
            actor=world.ana,
            channel=world.mine.channel,
            subject=f"Consulta {i}",
            requester=world.mine.requester,
            group=group,
            acknowledge=False,
        )
        for i in range(3)
    ]
    # The word is in notes written newest case first: the cases still go by number.
    for case in reversed(opened):
        cases.add_note(case=case, body_text="Pregunta por la ventanilla", actor=world.ana)
    newest_first = [c.pk for c in reversed(opened)]
    assert matching_case_ids("ventanilla") == newest_first
    assert matching_case_ids("ventanilla", limit=2) == newest_first[:2]


def _documents(case) -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM search_document WHERE case_id = %s", [case.pk])
        return cur.fetchone()[0]


def _opened_by_a_message(world, text: str):
    """A case as a channel opens it: the message is the description and the first note."""
    case = cases.open_case(
        actor=None,
        channel=world.mine.channel,
        subject="Consulta por correo",
        description=text,
        requester=world.mine.requester,
        acknowledge=False,
    )
    note = cases.add_note(case=case, body_text=text, author_contact=world.mine.requester)
    return case, note


def test_the_message_that_opened_a_case_is_found_through_the_case(world):
    case, note = _opened_by_a_message(world, "Se dañó el medidor de la sede norte")
    assert _documents(case) == 1  # the case's own: the note's words are all in it
    assert matching_case_ids("medidor norte") == [case.pk]
    cases.add_note(
        case=case, body_text="Sigue dañado el medidor", author_contact=note.author_contact
    )
    assert _documents(case) == 2  # another message has its own
    schema.rebuild(connection)
    assert _documents(case) == 2 and matching_case_ids("medidor norte") == [case.pk]


def test_a_new_description_leaves_the_first_message_still_found(world):
    case, note = _opened_by_a_message(world, "Se dañó el medidor de la sede norte")
    cases.update_case(case=case, actor=world.ana, description="Cambio de medidor")
    assert matching_case_ids("sede norte") == [case.pk]  # now through the note's document
    assert matching_case_ids("cambio medidor") == [case.pk]
    assert _documents(case) == 2
    # a note edited into, or out of, the description follows the same rule
    Note.objects.filter(pk=note.pk).update(body_text="Cambio de medidor")
    assert _documents(case) == 1 and matching_case_ids("sede norte") == []
    Note.objects.filter(pk=note.pk).update(body_text="Medidor averiado en la sede sur")
    assert _documents(case) == 2 and matching_case_ids("sede sur") == [case.pk]


def test_the_migration_drops_documents_of_notes_that_are_their_cases_description(world):
    schema.set_triggers(connection, enabled=False)  # as an index written before 0006
    try:
        case, note = _opened_by_a_message(world, "Rendijas duplicadas en el portal")
        with connection.cursor() as cur:  # both documents, as the old triggers wrote them
            if connection.vendor == "postgresql":
                cur.execute(
                    "INSERT INTO search_document (id, case_id, document) VALUES"
                    " (%s, %s, to_tsvector('spanish', %s)), (%s, %s, to_tsvector('spanish', %s))",
                    [case.pk * 2, case.pk, "rendijas", note.pk * 2 + 1, case.pk, "rendijas"],
                )
            else:
                cur.execute(
                    "INSERT INTO search_document (rowid, body, case_id) VALUES"
                    " (%s, %s, %s), (%s, %s, %s)",
                    [case.pk * 2, "rendijas", case.pk, note.pk * 2 + 1, "rendijas", case.pk],
                )
    finally:
        schema.set_triggers(connection, enabled=True)
    assert _documents(case) == 2
    schema.replace_triggers(connection)
    assert _documents(case) == 1 and matching_case_ids("rendijas") == [case.pk]
