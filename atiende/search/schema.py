"""The search index: one document per case (number, subject, description, the requester's
name and email addresses, the organization's name) and one per note that a person wrote
(its text, internal notes included: the index serves the agents' console only). Automatic
notes — acknowledgements, status notices, our own wording — are not indexed: their words
are in every case and would only make every search match everything (they are also a third
of the documents an intake of new cases writes).

The database keeps it current itself, with triggers on `cases_case` and `cases_note`:
every way a case or note is written (services, channel intake, the admin, a bulk load)
updates the index in the same transaction, and no service has to remember to. Document
ids: a case's is `2 * case.id`, a note's `2 * note.id + 1`, so a trigger finds the row it
replaces by its primary key.

- SQLite: an FTS5 table with the `unicode61` tokenizer and `remove_diacritics 2`, so
  "facturacion" finds "facturación" and case does not matter. SQLite has no Spanish
  stemmer: queries match word prefixes instead ("factura" finds "facturación").
- PostgreSQL: a table of `tsvector`s with a GIN index: the Spanish stems of the text
  (Snowball, stop words) plus those of the text without accents (configuration
  `atiende_es`: `unaccent`, then the Spanish stemmer), so "facturacion" and "facturas"
  find "facturación".

A note whose text is its case's description — the message that opened the case by email,
WhatsApp or the portal — gets no document of its own: every word of it is in the case's
document already, so it could only ever find the same case (half the documents, and half
the text to index, of an intake of new cases: docs/benchmarks.md, issue 17, session 21).
When the description changes, such notes are indexed then.

A case document is written when the case's subject, description, requester or
organization changes; renaming a contact or an organization does not rewrite the documents
of their cases (search the new name after the next change of the case, or run
`rebuild()`).
"""

from __future__ import annotations

CONFIG = "atiende_es"

# --- SQLite -------------------------------------------------------------------------------

_SQLITE_CASE_TEXT = """
    NEW.number || ' ' || NEW.subject || ' ' || NEW.description || ' ' ||
    coalesce((SELECT name FROM customers_contact WHERE id = NEW.requester_id), '') || ' ' ||
    coalesce((SELECT group_concat(address, ' ') FROM customers_contactemail
              WHERE contact_id = NEW.requester_id), '') || ' ' ||
    coalesce((SELECT name FROM customers_organization WHERE id = NEW.organization_id), '')
"""

# A note's own document: written by a person, and not the text of its case's description.
_SQLITE_NOTE_OWN = (
    "NOT NEW.automatic AND NEW.body_text IS NOT "
    "(SELECT description FROM cases_case WHERE id = NEW.case_id)"
)

# Notes left out as their case's old description, indexed now that it changed.
_SQLITE_DESCRIBED_NOTES = """
        DELETE FROM search_document WHERE rowid IN (
            SELECT id * 2 + 1 FROM cases_note
            WHERE NEW.description IS NOT OLD.description AND case_id = NEW.id
              AND body_text = OLD.description);
        INSERT INTO search_document (rowid, body, case_id)
            SELECT id * 2 + 1, body_text, case_id FROM cases_note
            WHERE NEW.description IS NOT OLD.description AND case_id = NEW.id
              AND NOT automatic AND body_text = OLD.description;"""

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE search_document USING fts5("
    "body, case_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER search_case_insert AFTER INSERT ON cases_case BEGIN
        INSERT INTO search_document (rowid, body, case_id) VALUES
            (NEW.id * 2, {_SQLITE_CASE_TEXT}, NEW.id);
    END""",
    f"""CREATE TRIGGER search_case_update AFTER UPDATE ON cases_case
    WHEN NEW.subject IS NOT OLD.subject OR NEW.description IS NOT OLD.description
      OR NEW.requester_id IS NOT OLD.requester_id OR NEW.organization_id IS NOT OLD.organization_id
    BEGIN
        DELETE FROM search_document WHERE rowid = OLD.id * 2;
        INSERT INTO search_document (rowid, body, case_id) VALUES
            (NEW.id * 2, {_SQLITE_CASE_TEXT}, NEW.id);{_SQLITE_DESCRIBED_NOTES}
    END""",
    """CREATE TRIGGER search_case_delete AFTER DELETE ON cases_case BEGIN
        DELETE FROM search_document WHERE rowid = OLD.id * 2;
    END""",
    f"""CREATE TRIGGER search_note_insert AFTER INSERT ON cases_note WHEN {_SQLITE_NOTE_OWN}
    BEGIN
        INSERT INTO search_document (rowid, body, case_id) VALUES
            (NEW.id * 2 + 1, NEW.body_text, NEW.case_id);
    END""",
    f"""CREATE TRIGGER search_note_update AFTER UPDATE ON cases_note
    WHEN NEW.body_text IS NOT OLD.body_text OR NEW.case_id IS NOT OLD.case_id
      OR NEW.automatic IS NOT OLD.automatic
    BEGIN
        DELETE FROM search_document WHERE rowid = OLD.id * 2 + 1;
        INSERT INTO search_document (rowid, body, case_id)
            SELECT NEW.id * 2 + 1, NEW.body_text, NEW.case_id WHERE {_SQLITE_NOTE_OWN};
    END""",
    """CREATE TRIGGER search_note_delete AFTER DELETE ON cases_note BEGIN
        DELETE FROM search_document WHERE rowid = OLD.id * 2 + 1;
    END""",
]

SQLITE_TRIGGERS = [
    "search_case_insert",
    "search_case_update",
    "search_case_delete",
    "search_note_insert",
    "search_note_update",
    "search_note_delete",
]

SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS] + [
    "DROP TABLE IF EXISTS search_document"
]

_SQLITE_REBUILD = [
    "DELETE FROM search_document",
    f"""INSERT INTO search_document (rowid, body, case_id)
        SELECT id * 2, {_SQLITE_CASE_TEXT.replace("NEW.", "c.")}, id FROM cases_case AS c""",
    """INSERT INTO search_document (rowid, body, case_id)
        SELECT n.id * 2 + 1, n.body_text, n.case_id FROM cases_note AS n
        WHERE NOT n.automatic
          AND n.body_text IS NOT (SELECT description FROM cases_case WHERE id = n.case_id)""",
]

# --- PostgreSQL ----------------------------------------------------------------------------

_PG_CASE_TEXT = """
    NEW.number || ' ' || NEW.subject || ' ' || NEW.description || ' ' ||
    coalesce((SELECT name FROM customers_contact WHERE id = NEW.requester_id), '') || ' ' ||
    coalesce((SELECT string_agg(address, ' ') FROM customers_contactemail
              WHERE contact_id = NEW.requester_id), '') || ' ' ||
    coalesce((SELECT name FROM customers_organization WHERE id = NEW.organization_id), '')
"""


def _pg_vector(text: str) -> str:
    """Both the Spanish stems of the words as written and the stems of the words without
    accents: Snowball's Spanish stemmer needs the accents ("facturación" → "factur"), and
    a query typed without them ("facturacion") must still match (see selectors.py)."""
    return f"(to_tsvector('spanish', {text}) || to_tsvector('{CONFIG}', {text}))"


POSTGRES_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{CONFIG}') THEN
            CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.spanish);
            ALTER TEXT SEARCH CONFIGURATION {CONFIG}
                ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem;
        END IF;
    END $$""",
    """CREATE TABLE search_document (
        id bigint PRIMARY KEY,
        case_id bigint NOT NULL,
        document tsvector NOT NULL
    )""",
    "CREATE INDEX search_document_match ON search_document USING gin (document)",
    f"""CREATE OR REPLACE FUNCTION search_index_case() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM search_document WHERE id = OLD.id * 2;
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.subject IS NOT DISTINCT FROM OLD.subject
           AND NEW.description IS NOT DISTINCT FROM OLD.description
           AND NEW.requester_id IS NOT DISTINCT FROM OLD.requester_id
           AND NEW.organization_id IS NOT DISTINCT FROM OLD.organization_id THEN
            RETURN NEW;
        END IF;
        INSERT INTO search_document (id, case_id, document)
            VALUES (NEW.id * 2, NEW.id, {_pg_vector(_PG_CASE_TEXT)})
            ON CONFLICT (id) DO UPDATE SET case_id = EXCLUDED.case_id, document = EXCLUDED.document;
        IF TG_OP = 'UPDATE' AND NEW.description IS DISTINCT FROM OLD.description THEN
            -- notes left out as the old description (search_index_note): indexed now
            INSERT INTO search_document (id, case_id, document)
                SELECT n.id * 2 + 1, n.case_id, {_pg_vector("n.body_text")}
                FROM cases_note AS n
                WHERE n.case_id = NEW.id AND NOT n.automatic AND n.body_text = OLD.description
                ON CONFLICT (id) DO UPDATE
                    SET case_id = EXCLUDED.case_id, document = EXCLUDED.document;
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION search_index_note() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM search_document WHERE id = OLD.id * 2 + 1;
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.body_text IS NOT DISTINCT FROM OLD.body_text
           AND NEW.case_id IS NOT DISTINCT FROM OLD.case_id
           AND NEW.automatic IS NOT DISTINCT FROM OLD.automatic THEN
            RETURN NEW;
        END IF;
        IF NEW.automatic OR NEW.body_text IS NOT DISTINCT FROM
                (SELECT description FROM cases_case WHERE id = NEW.case_id) THEN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM search_document WHERE id = OLD.id * 2 + 1;
            END IF;
            RETURN NEW;
        END IF;
        INSERT INTO search_document (id, case_id, document)
            VALUES (NEW.id * 2 + 1, NEW.case_id, {_pg_vector("NEW.body_text")})
            ON CONFLICT (id) DO UPDATE SET case_id = EXCLUDED.case_id, document = EXCLUDED.document;
        RETURN NEW;
    END $$""",
    # TRUNCATE fires no row triggers (the test runner's flush truncates every table).
    """CREATE OR REPLACE FUNCTION search_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE search_document;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER search_case AFTER INSERT OR UPDATE OR DELETE ON cases_case
        FOR EACH ROW EXECUTE FUNCTION search_index_case()""",
    """CREATE TRIGGER search_note AFTER INSERT OR UPDATE OR DELETE ON cases_note
        FOR EACH ROW EXECUTE FUNCTION search_index_note()""",
    """CREATE TRIGGER search_case_truncate AFTER TRUNCATE ON cases_case
        FOR EACH STATEMENT EXECUTE FUNCTION search_truncate()""",
]

POSTGRES_TRIGGERS = [("search_case", "cases_case"), ("search_note", "cases_note")]

POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS search_case_truncate ON cases_case",
    "DROP TRIGGER IF EXISTS search_case ON cases_case",
    "DROP TRIGGER IF EXISTS search_note ON cases_note",
    "DROP FUNCTION IF EXISTS search_index_case()",
    "DROP FUNCTION IF EXISTS search_index_note()",
    "DROP FUNCTION IF EXISTS search_truncate()",
    "DROP TABLE IF EXISTS search_document",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}",
]

_PG_REBUILD = [
    "TRUNCATE search_document",
    f"""INSERT INTO search_document (id, case_id, document)
        SELECT id * 2, id, {_pg_vector(_PG_CASE_TEXT.replace("NEW.", "c."))}
        FROM cases_case AS c""",
    f"""INSERT INTO search_document (id, case_id, document)
        SELECT n.id * 2 + 1, n.case_id, {_pg_vector("n.body_text")} FROM cases_note AS n
        WHERE NOT n.automatic AND n.body_text IS DISTINCT FROM
            (SELECT description FROM cases_case WHERE id = n.case_id)""",
]


def replace_triggers(connection) -> None:
    """Write every trigger (and PostgreSQL's functions) again as defined here, and drop
    the documents of notes they no longer index (migration 0006: a note that is its
    case's description)."""
    note_triggers(connection)
    _rewrite(
        connection,
        triggers=("search_case_update",),
        function="search_index_case",
        dropped="SELECT n.id * 2 + 1 FROM cases_note AS n"
        " JOIN cases_case AS c ON c.id = n.case_id WHERE n.body_text = c.description",
    )


def note_triggers(connection) -> None:
    """Write the notes' triggers again as defined here (migration 0005: automatic notes
    left out), and drop the documents of automatic notes already indexed."""
    _rewrite(
        connection,
        triggers=("search_note_insert", "search_note_update"),
        function="search_index_note",
        dropped="SELECT id * 2 + 1 FROM cases_note WHERE automatic",
    )


def _rewrite(connection, *, triggers: tuple[str, ...], function: str, dropped: str) -> None:
    """Write `triggers` (SQLite) or `function` (PostgreSQL) again as defined here, then
    drop the documents whose ids `dropped` (a query) selects."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            for name in triggers:
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")
                (sql,) = [s for s in SQLITE_CREATE if f"TRIGGER {name} " in s]
                cur.execute(sql)
            key = "rowid"
        elif connection.vendor == "postgresql":
            (sql,) = [s for s in POSTGRES_CREATE if f"FUNCTION {function}() RETURNS" in s]
            cur.execute(sql)
            key = "id"
        else:
            return
        cur.execute(f"DELETE FROM search_document WHERE {key} IN ({dropped})")


def create(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql, params=None)


def drop(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql, params=None)


def rebuild(connection) -> None:
    """Write every document again from the cases and notes (after a bulk load without the
    triggers, or to pick up renamed contacts and organizations)."""
    statements = {"sqlite": _SQLITE_REBUILD, "postgresql": _PG_REBUILD}[connection.vendor]
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def set_triggers(connection, *, enabled: bool) -> None:
    """Switch the index's triggers off for a bulk load (then `rebuild`) and on again."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            verb = "ENABLE" if enabled else "DISABLE"
            # Deferred foreign-key checks of this transaction would forbid the ALTER.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name, table in POSTGRES_TRIGGERS:
                cur.execute(f"ALTER TABLE {table} {verb} TRIGGER {name}")
        elif enabled:
            for sql in SQLITE_CREATE[1:]:
                cur.execute(sql)
        else:
            for name in SQLITE_TRIGGERS:
                cur.execute(f"DROP TRIGGER IF EXISTS {name}")
