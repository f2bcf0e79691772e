"""full-text search over incidents (SQLite FTS5, PostgreSQL tsvector with a GIN index, kept by triggers); problems

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-25 09:00:00

One search document per incident: its title, description, root cause and resolution, and the text of its status
updates, notes, messages put on the timeline, status changes' notes and reopen reasons. Database triggers keep it
current, so every change of that text (from Firebell, a script, a restore) updates the index in the same
transaction, and no code path can forget it.

- SQLite: an FTS5 table ``incident_search`` (rowid = incidents.id) with the tokenizer ``porter unicode61
  remove_diacritics 2`` (English stems, accents folded). It keeps its own copy of the text, which ``snippet()``
  reads; the timeline's text is appended to its ``updates`` column as events arrive.
- PostgreSQL: a table ``incident_search`` (incident_id, team_id, document tsvector, 'english' configuration)
  with a GIN index, built without the pending list (``fastupdate = off``) so a search never scans unmerged
  entries. Title is weight A, root cause and resolution B, description C, the timeline's text D; ts_headline
  reads the text from incidents and timeline_events.

The triggers live on ``incidents`` and ``timeline_events``. On SQLite a migration that rebuilds either table
(Alembic's batch mode: copy, drop, rename) drops its triggers with it: such a migration must create them again
(``tests/storage/test_search.py`` checks that search follows every change at the head revision).
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

# The timeline text that is searched, by event kind: updates, notes, messages added from Slack and reopen reasons
# as they are; a status change only for the note typed with it ("Status A → B: <note>"); nothing else (pages,
# roles, the declare line, which repeats the title).
_SQLITE_TEXT = """CASE
    WHEN {e}.kind IN ('update', 'note', 'message', 'reopened') THEN {e}.text
    WHEN {e}.kind = 'status' AND instr({e}.text, ': ') > 0 THEN substr({e}.text, instr({e}.text, ': ') + 2)
    ELSE '' END"""

_SQLITE_UPDATES = """coalesce((SELECT group_concat(body, char(10)) FROM (
    SELECT {text} AS body FROM timeline_events e WHERE e.incident_id = {incident} ORDER BY e.at, e.id
) WHERE body <> ''), '')"""

SQLITE_UPGRADE = [
    """CREATE VIRTUAL TABLE incident_search USING fts5(
        title, description, updates, root_cause, resolution,
        tokenize = 'porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER incident_search_insert AFTER INSERT ON incidents BEGIN
        INSERT INTO incident_search (rowid, title, description, updates, root_cause, resolution)
        VALUES (new.id, new.title, new.description, '', coalesce(new.root_cause, ''), coalesce(new.resolution, ''));
    END""",
    """CREATE TRIGGER incident_search_update AFTER UPDATE OF title, description, root_cause, resolution ON incidents
    WHEN old.title IS NOT new.title OR old.description IS NOT new.description
        OR old.root_cause IS NOT new.root_cause OR old.resolution IS NOT new.resolution BEGIN
        UPDATE incident_search SET title = new.title, description = new.description,
            root_cause = coalesce(new.root_cause, ''), resolution = coalesce(new.resolution, '')
        WHERE rowid = new.id;
    END""",
    """CREATE TRIGGER incident_search_delete AFTER DELETE ON incidents BEGIN
        DELETE FROM incident_search WHERE rowid = old.id;
    END""",
    f"""CREATE TRIGGER incident_search_event_insert AFTER INSERT ON timeline_events
    WHEN ({_SQLITE_TEXT.format(e='new')}) <> '' BEGIN
        UPDATE incident_search
        SET updates = CASE WHEN updates = '' THEN '' ELSE updates || char(10) END || ({_SQLITE_TEXT.format(e='new')})
        WHERE rowid = new.incident_id;
    END""",
    f"""CREATE TRIGGER incident_search_event_update AFTER UPDATE OF incident_id, kind, text ON timeline_events BEGIN
        UPDATE incident_search SET updates = {_SQLITE_UPDATES.format(text=_SQLITE_TEXT.format(e='e'),
                                                                      incident='incident_search.rowid')}
        WHERE rowid IN (old.incident_id, new.incident_id);
    END""",
    f"""CREATE TRIGGER incident_search_event_delete AFTER DELETE ON timeline_events
    WHEN ({_SQLITE_TEXT.format(e='old')}) <> '' BEGIN
        UPDATE incident_search SET updates = {_SQLITE_UPDATES.format(text=_SQLITE_TEXT.format(e='e'),
                                                                      incident='old.incident_id')}
        WHERE rowid = old.incident_id;
    END""",
    f"""INSERT INTO incident_search (rowid, title, description, updates, root_cause, resolution)
        SELECT i.id, i.title, i.description,
            {_SQLITE_UPDATES.format(text=_SQLITE_TEXT.format(e='e'), incident='i.id')},
            coalesce(i.root_cause, ''), coalesce(i.resolution, '')
        FROM incidents i""",
]

SQLITE_DOWNGRADE = [
    *(f"DROP TRIGGER IF EXISTS incident_search_{name}" for name in (
        "insert", "update", "delete", "event_insert", "event_update", "event_delete")),
    "DROP TABLE IF EXISTS incident_search",
]

POSTGRESQL_UPGRADE = [
    """CREATE FUNCTION incident_search_text(kind text, body text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
            WHEN kind IN ('update', 'note', 'message', 'reopened') THEN body
            WHEN kind = 'status' AND position(': ' IN body) > 0 THEN substr(body, position(': ' IN body) + 2)
            ELSE '' END
    $$""",
    """CREATE FUNCTION incident_search_vector(title text, description text, root_cause text, resolution text,
                                              updates text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
            || setweight(to_tsvector('english'::regconfig, coalesce(root_cause, '') || E'\\n'
                                                           || coalesce(resolution, '')), 'B')
            || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')
            || setweight(to_tsvector('english'::regconfig, coalesce(updates, '')), 'D')
    $$""",
    """CREATE FUNCTION incident_search_updates(incident integer) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT coalesce(string_agg(body, E'\\n' ORDER BY at, id), '') FROM (
            SELECT incident_search_text(e.kind, e.text) AS body, e.at, e.id
            FROM timeline_events e WHERE e.incident_id = incident
        ) t WHERE body <> ''
    $$""",
    """CREATE TABLE incident_search (
        incident_id integer PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
        team_id varchar(32) NOT NULL,
        document tsvector NOT NULL
    )""",
    "CREATE INDEX ix_incident_search_document ON incident_search USING gin (document) WITH (fastupdate = off)",
    """CREATE FUNCTION incident_search_on_incident() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN  -- a new incident has no timeline yet
            INSERT INTO incident_search (incident_id, team_id, document) VALUES (NEW.id, NEW.team_id,
                incident_search_vector(NEW.title, NEW.description, NEW.root_cause, NEW.resolution, ''));
        ELSE
            UPDATE incident_search SET team_id = NEW.team_id,
                document = incident_search_vector(NEW.title, NEW.description, NEW.root_cause, NEW.resolution,
                                                  incident_search_updates(NEW.id))
            WHERE incident_id = NEW.id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER incident_search_insert AFTER INSERT ON incidents
    FOR EACH ROW EXECUTE FUNCTION incident_search_on_incident()""",
    """CREATE TRIGGER incident_search_update AFTER UPDATE OF team_id, title, description, root_cause, resolution
    ON incidents FOR EACH ROW
    WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.title IS DISTINCT FROM NEW.title
          OR OLD.description IS DISTINCT FROM NEW.description OR OLD.root_cause IS DISTINCT FROM NEW.root_cause
          OR OLD.resolution IS DISTINCT FROM NEW.resolution)
    EXECUTE FUNCTION incident_search_on_incident()""",
    # A new event's words are appended; a changed or removed one rebuilds its incident's document.
    """CREATE FUNCTION incident_search_on_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE incident_search SET document = document || setweight(
                to_tsvector('english'::regconfig, incident_search_text(NEW.kind, NEW.text)), 'D')
            WHERE incident_id = NEW.incident_id;
        ELSE
            UPDATE incident_search s SET document = incident_search_vector(i.title, i.description, i.root_cause,
                                                                           i.resolution, incident_search_updates(i.id))
            FROM incidents i
            WHERE i.id = s.incident_id AND s.incident_id IN (OLD.incident_id, NEW.incident_id);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER incident_search_event_insert AFTER INSERT ON timeline_events FOR EACH ROW
    WHEN (incident_search_text(NEW.kind, NEW.text) <> '') EXECUTE FUNCTION incident_search_on_event()""",
    """CREATE TRIGGER incident_search_event_update AFTER UPDATE OF incident_id, kind, text ON timeline_events
    FOR EACH ROW EXECUTE FUNCTION incident_search_on_event()""",
    """CREATE TRIGGER incident_search_event_delete AFTER DELETE ON timeline_events FOR EACH ROW
    WHEN (incident_search_text(OLD.kind, OLD.text) <> '') EXECUTE FUNCTION incident_search_on_event()""",
    """INSERT INTO incident_search (incident_id, team_id, document)
        SELECT id, team_id, incident_search_vector(title, description, root_cause, resolution,
                                                   incident_search_updates(id))
        FROM incidents""",
]

POSTGRESQL_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS incident_search_event_delete ON timeline_events",
    "DROP TRIGGER IF EXISTS incident_search_event_update ON timeline_events",
    "DROP TRIGGER IF EXISTS incident_search_event_insert ON timeline_events",
    "DROP TRIGGER IF EXISTS incident_search_update ON incidents",
    "DROP TRIGGER IF EXISTS incident_search_insert ON incidents",
    "DROP FUNCTION IF EXISTS incident_search_on_event()",
    "DROP FUNCTION IF EXISTS incident_search_on_incident()",
    "DROP TABLE IF EXISTS incident_search",
    "DROP FUNCTION IF EXISTS incident_search_updates(integer)",
    "DROP FUNCTION IF EXISTS incident_search_vector(text, text, text, text, text)",
    "DROP FUNCTION IF EXISTS incident_search_text(text, text)",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(SQLITE_UPGRADE if sqlite else POSTGRESQL_UPGRADE)
    # Problem records: numbered per team like incidents; an incident belongs to at most one problem.
    op.create_table('problem_counters',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_problem_counters'))
    )
    op.create_table('problems',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('workaround', sa.Text(), nullable=True),
    sa.Column('root_cause', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problems')),
    sa.UniqueConstraint('team_id', 'number', name=op.f('uq_problems_team_id_number'))
    )
    op.create_table('problem_incidents',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('linked_by', sa.String(length=32), nullable=False),
    sa.Column('linked_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_problem_incidents_incident_id_incidents'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['problem_id'], ['problems.id'], name=op.f('fk_problem_incidents_problem_id_problems'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_problem_incidents'))
    )
    op.create_index(op.f('ix_problem_incidents_problem_id'), 'problem_incidents', ['problem_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_problem_incidents_problem_id'), table_name='problem_incidents')
    op.drop_table('problem_incidents')
    op.drop_table('problems')
    op.drop_table('problem_counters')
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(SQLITE_DOWNGRADE if sqlite else POSTGRESQL_DOWNGRADE)
