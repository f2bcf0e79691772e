"""Full-text queries over incidents (the index of migration 0009), on SQLite FTS5 and PostgreSQL tsvector.

Every function takes the caller's Session and search *terms*: words already cut from what a person typed
(``bot.domain.search``). Each term goes to the database as a literal (an FTS5 string, a ``plainto_tsquery``
argument), never as query syntax, so any text is safe here; only the shape of the SQL depends on how many terms
there are, never on what they say.

A search ranks a bounded pool: the ``POOL`` newest incidents that match, by relevance (FTS5 ``bm25``, PostgreSQL
``ts_rank``; title counts most, then root cause and resolution, then description, then the timeline), newest first
among equals. So the cost of a search does not grow with the number of incidents that match it; a word found in
thousands of incidents is ranked among its most recent ones.

On SQLite, bm25 itself counts every incident holding each term (its idf), whatever it ranks: that part grows with
the stored incidents. So a term found in so many incidents that counting them would cost more than ``RANK_BUDGET``
still selects but does not rank; the rarer terms of the query rank (``_ranking_terms``; at least the rarest). What
that choice reads of the index is kept per connection until the index changes (``_term_spans``), and the snippets of
hits far apart come from a scratch index of just their text (``_scratch_snippets``), not from a walk of every match
between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, bindparam, text
from sqlalchemy.orm import Session

from bot.domain.incident import Status
from bot.domain.search import MARK_END, MARK_START, SNIPPET_FIELDS, FoundIncident, SearchHit
from storage.db import is_read_only
from storage.types import as_utc

POOL = 200
MAX_HITS = 10
SNIPPET_WORDS = 16
SNIPPET_SPAN = 10_000  # on SQLite, chosen incidents further apart than this (in ids) get snippets from a scratch index
RANK_BUDGET = 20_000  # on SQLite, incidents bm25 may count per search (``_ranking_terms``)
DENSITY_SAMPLE = 64
_SPANS_KEY = "firebell_search_spans"  # in a connection's info: (index version, {term: its sample's span})
_SPANS_KEPT = 10_000  # terms a connection keeps spans of before it starts again
_FTS5_STRUCTURE_ID = 10  # the row of incident_search_data holding FTS5's structure record
_TOKENIZER = "porter unicode61 remove_diacritics 2"  # incident_search's own (migration 0009)
_SCRATCH = "incident_search_scratch"  # on SQLite, a connection's TEMP FTS5 table: snippets of far-apart hits
_SCORE_DIGITS = 7  # scores equal to this many decimals are equal (newest first among them)
FIELDS = SNIPPET_FIELDS  # where a snippet can come from, preferred in this order when they match as well
_KEY_COLUMNS = "{title description root_cause resolution}"  # FTS5 columns that say what an incident was about
_KEY_WEIGHTS = "'{a,b,c}'"  # the same on PostgreSQL: title A, root cause and resolution B, description C
_BM25 = "bm25(incident_search, 10.0, 2.0, 1.0, 4.0, 4.0)"  # title, description, updates, root cause, resolution
_TS_RANK_WEIGHTS = "'{0.1, 0.2, 0.4, 1.0}'"  # D (updates), C (description), B (root cause, resolution), A (title)
_HEADLINE = (f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords={SNIPPET_WORDS}, MinWords=6, ShortWord=0, '
             'MaxFragments=1, FragmentDelimiter=" … "')


def is_search_table(name: str) -> bool:
    """The tables of migration 0009 (on SQLite, FTS5's own incident_search_* tables too): not in the models."""
    return name == "incident_search" or name.startswith("incident_search_")


def not_search_index(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name``: compare and autogenerate leave the search index's tables alone."""
    return not (type_ == "table" and name is not None and is_search_table(name))


def _clean(terms: Iterable[str]) -> list[str]:
    """Terms a database driver can carry: no NUL (PostgreSQL refuses it), no lone surrogates (not UTF-8)."""
    cleaned = (term.replace("\x00", " ").encode("utf-8", "ignore").decode("utf-8").strip() for term in terms)
    return list(dict.fromkeys(term for term in cleaned if term))


def _fts_literal(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _fts_query(terms: Sequence[str], *, any_term: bool, key_fields: bool = False) -> str:
    query = (" OR " if any_term else " ").join(_fts_literal(term) for term in terms)
    return f"{_KEY_COLUMNS} : ({query})" if key_fields else query


def _ts_query(names: Sequence[str], *, any_term: bool) -> str:
    """A tsquery expression over bind parameters ``names``: every one (&&) or any one (||) of them."""
    return "(" + (" || " if any_term else " && ").join(f"plainto_tsquery('english', :{n})" for n in names) + ")"


def _term_params(terms: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    names = [f"t{i}" for i in range(len(terms))]
    return names, dict(zip(names, terms, strict=True))


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def search(session: Session, terms: Sequence[str], *, team_id: str | None = None, any_term: bool = False,
           limit: int = MAX_HITS, pool: int = POOL, rank_budget: int = RANK_BUDGET) -> list[SearchHit]:
    """Incidents holding every term (or, with ``any_term``, any of them) anywhere in their text: the most relevant
    of the ``pool`` newest that match, newest first among equals, at most ``limit``. On SQLite, ``rank_budget``
    bounds the terms that rank (``_ranking_terms``)."""
    terms = _clean(terms)
    if not terms or limit <= 0:
        return []
    if _is_sqlite(session):
        chosen = _sqlite_ranked(session, terms, team_id=team_id, any_term=any_term, limit=limit, pool=pool,
                                budget=rank_budget)
    else:
        chosen = _postgresql_ranked(session, terms, team_id=team_id, any_term=any_term, limit=limit, pool=pool)
    if not chosen:
        return []
    ids = [incident_id for incident_id, _ in chosen]
    found = incidents(session, ids)
    snippets = _snippets(session, terms, ids, any_term=any_term)
    hits = []
    for incident_id, score in chosen:
        field, snippet = snippets.get(incident_id, (None, None))
        hits.append(SearchHit(found[incident_id], score, snippet, field))
    return hits


# psycopg prepares a statement after its fifth run, and PostgreSQL may then keep one generic plan for it, made
# without the terms: a plan that fetches every match from the heap to find the newest ones cost 26 ms at 100,000
# incidents for a word the plan made for it finds in 0.5 ms. A search plans each of its statements for its terms.
_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


def _postgresql_ranked(session: Session, terms: Sequence[str], *, team_id: str | None, any_term: bool, limit: int,
                       pool: int) -> list[tuple[int, float]]:
    names, params = _term_params(terms)
    query = _ts_query(names, any_term=any_term)
    team = "" if team_id is None else " AND s.team_id = :team"
    session.execute(_CUSTOM_PLANS)
    sql = (f"SELECT p.incident_id AS id, ts_rank({_TS_RANK_WEIGHTS}, p.document, {query}, 1) AS score, "
           "i.declared_at FROM (SELECT s.incident_id, s.document FROM incident_search s "
           f"WHERE s.document @@ {query}{team} ORDER BY s.incident_id DESC LIMIT :pool) p "
           "JOIN incidents i ON i.id = p.incident_id")
    ranked = sorted(session.execute(text(sql), {**params, "team": team_id, "pool": pool}).all(),
                    key=lambda row: (-float(f"{row.score:.9g}"), -as_utc(row.declared_at).timestamp(), -row.id))
    return [(row.id, float(row.score)) for row in ranked[:limit]]


def _sqlite_ranked(session: Session, terms: Sequence[str], *, team_id: str | None, any_term: bool, limit: int,
                   pool: int, budget: int) -> list[tuple[int, float]]:
    """The ``pool`` newest matches ranked by bm25 over the terms that rank (``_ranking_terms``), in one statement
    that hands back only the ``limit`` best. SQLite keeps times as ISO text, so text order is time order."""
    team = "" if team_id is None else " AND i.team_id = :team"
    params: dict[str, Any] = {"team": team_id, "pool": pool, "limit": limit,
                              "query": _fts_query(terms, any_term=any_term)}
    ranking = _ranking_terms(session, terms, budget)
    order = f"ORDER BY round(score, {_SCORE_DIGITS}) DESC, declared_at DESC, id DESC LIMIT :limit"
    if len(ranking) == len(terms):
        sql = (f"SELECT id, score FROM (SELECT incident_search.rowid AS id, -{_BM25} AS score, i.declared_at "
               f"FROM incident_search JOIN incidents i ON i.id = incident_search.rowid "
               f"WHERE incident_search MATCH :query{team} ORDER BY incident_search.rowid DESC LIMIT :pool) {order}")
    else:
        # bm25 over the ranking terms, in one walk of their matches between the pool's oldest and newest id, for the
        # pool's own (``+rowid`` keeps the list from FTS5, which would run the query once per id). The pool's rows
        # that score are joined to their dates and the others (with any_term) added at 0: a LEFT JOIN of the two
        # CTEs got no index, so each of the 200 pool rows scanned every scored row (1.2 ms of 4 at 100,000).
        params["ranking"] = _fts_query(ranking, any_term=any_term)
        sql = (f"WITH pool AS MATERIALIZED (SELECT incident_search.rowid AS id, i.declared_at FROM incident_search "
               f"JOIN incidents i ON i.id = incident_search.rowid WHERE incident_search MATCH :query{team} "
               "ORDER BY incident_search.rowid DESC LIMIT :pool), "
               f"scored AS MATERIALIZED (SELECT rowid AS id, -{_BM25} AS score FROM incident_search "
               "WHERE incident_search MATCH :ranking AND rowid BETWEEN (SELECT min(id) FROM pool) "
               "AND (SELECT max(id) FROM pool) AND +rowid IN (SELECT id FROM pool)) "
               "SELECT id, score FROM (SELECT scored.id, scored.score, pool.declared_at FROM scored "
               "JOIN pool ON pool.id = scored.id UNION ALL SELECT id, 0.0, declared_at FROM pool "
               f"WHERE id NOT IN (SELECT id FROM scored)) {order}")
    return [(row.id, float(row.score)) for row in session.execute(text(sql), params)]


def _ranking_terms(session: Session, terms: Sequence[str], budget: int) -> list[str]:
    """The terms bm25 ranks by on SQLite: all of them, unless that would cost more than ``budget``.

    FTS5's bm25 counts, for each term of the query, every incident holding it (its idf), however few are ranked;
    that is the work of a search that grows with the stored incidents. So the terms are taken rarest first while
    the incidents holding them add up to at most ``budget``, and at least the rarest one; the others still
    select (every one must match) but do not rank. A term left out is one found in thousands of incidents, so
    bm25 would weigh it little (its idf ``ln((N - n + 0.5) / (n + 0.5))`` is small, and nearly zero when it is in
    half of them). How many incidents hold a term is estimated from its ``DENSITY_SAMPLE`` newest matches: the
    share of the newest ids they span (``_term_spans``)."""
    if len(terms) == 1:
        return list(terms)
    top, version = session.execute(text(
        "SELECT (SELECT coalesce(max(id), 0) FROM incidents), "
        f"(SELECT block FROM incident_search_data WHERE id = {_FTS5_STRUCTURE_ID})")).one()
    if top * len(terms) <= budget:
        return list(terms)
    spans = _term_spans(session, terms, version)
    estimates = []
    for order, term in enumerate(terms):
        count, oldest = spans[term]
        estimate = count if count < DENSITY_SAMPLE else count * top / max(1, top - oldest + 1)
        estimates.append((estimate, order, term))
    estimates.sort()
    chosen: list[tuple[int, str]] = []
    spent = 0.0
    for estimate, order, term in estimates:
        if chosen and spent + estimate > budget:
            break
        chosen.append((order, term))
        spent += estimate
    return [term for _, term in sorted(chosen)]


def _term_spans(session: Session, terms: Sequence[str], version: bytes | None) -> dict[str, tuple[int, int]]:
    """For each term, how many of its ``DENSITY_SAMPLE`` newest matches there are and the oldest id among them.

    They change only when the index does, so a read-only transaction keeps them with its database connection
    (``Connection.info``) under the index's version: FTS5's structure record, which every change of the index
    rewrites (its write counter grows). A search after a write reads them again at once. A write transaction
    neither reads nor fills the cache: what it sees may yet be rolled back, and the next write could then leave a
    structure record equal to the one it saw."""
    connection = session.connection()
    cache: dict[str, tuple[int, int]] | None = None
    if version is not None and is_read_only(connection):
        kept = connection.info.get(_SPANS_KEY)
        if kept is None or kept[0] != version or len(kept[1]) > _SPANS_KEPT:
            kept = (version, {})
            connection.info[_SPANS_KEY] = kept
        cache = kept[1]
    spans = {} if cache is None else {term: cache[term] for term in terms if term in cache}
    missing = [term for term in terms if term not in spans]
    if missing:
        names = [f"t{i}" for i in range(len(missing))]
        samples = ", ".join(
            f"(SELECT count(*) || ' ' || coalesce(min(rowid), 0) FROM (SELECT rowid FROM incident_search "
            f"WHERE incident_search MATCH :{n} ORDER BY rowid DESC LIMIT :sample)) AS {n}" for n in names)
        params: dict[str, Any] = {n: _fts_literal(term) for n, term in zip(names, missing, strict=True)}
        row = session.execute(text(f"SELECT {samples}"), {**params, "sample": DENSITY_SAMPLE}).one()
        for n, term in zip(names, missing, strict=True):
            count, oldest = (int(part) for part in getattr(row, n).split())
            spans[term] = (count, oldest)
            if cache is not None:
                cache[term] = (count, oldest)
    return spans


def _snippets(session: Session, terms: Sequence[str], ids: Sequence[int], *,
              any_term: bool) -> dict[int, tuple[str | None, str | None]]:
    """For each incident, the field where the terms matched best and a short excerpt of it."""
    if _is_sqlite(session):
        query = _fts_query(terms, any_term=any_term)
        if max(ids) - min(ids) >= SNIPPET_SPAN:
            rows = _scratch_snippets(session, query, ids)
        else:
            # One walk of the matches between the lowest and highest id, the snippets made for the chosen ones only:
            # FTS5 would answer "rowid IN (…)" by running the query once per id, each run seeking into every segment
            # (``+rowid`` keeps the list from it).
            columns = ", ".join(f"snippet(incident_search, {index}, :start, :end, '…', {SNIPPET_WORDS}) AS {field}"
                                for index, field in enumerate(FIELDS, start=1))
            statement = text(f"SELECT rowid AS id, {columns} FROM incident_search WHERE incident_search MATCH :query "
                             "AND rowid BETWEEN :low AND :high AND +rowid IN :ids")
            rows = session.execute(statement.bindparams(bindparam("ids", expanding=True)), {
                "query": query, "start": MARK_START, "end": MARK_END, "low": min(ids), "high": max(ids),
                "ids": list(ids)}).all()
    else:
        names, params = _term_params(terms)
        ts_query = _ts_query(names, any_term=any_term)
        sources = {"description": "i.description", "updates": "incident_search_updates(i.id)",
                   "root_cause": "coalesce(i.root_cause, '')", "resolution": "coalesce(i.resolution, '')"}
        columns = ", ".join(f"ts_headline('english', {sources[field]}, {ts_query}, :options) AS {field}"
                            for field in FIELDS)
        statement = text(f"SELECT i.id, {columns} FROM incidents i WHERE i.id IN :ids")
        rows = session.execute(statement.bindparams(bindparam("ids", expanding=True)),
                               {**params, "options": _HEADLINE, "ids": list(ids)}).all()
    result: dict[int, tuple[str | None, str | None]] = {}
    for row in rows:
        excerpts = [(field, _one_line(getattr(row, field) or "")) for field in FIELDS]
        marked = [(excerpt.count(MARK_START), -order, field, excerpt)
                  for order, (field, excerpt) in enumerate(excerpts) if MARK_START in excerpt]
        if marked:
            _, _, field, excerpt = max(marked)
            result[row.id] = (field, excerpt)
    return result


_SCRATCH_COLUMNS = "title, description, updates, root_cause, resolution"  # incident_search's, in its order
_SCRATCH_SETUP = [
    f"CREATE TEMP TABLE IF NOT EXISTS {_SCRATCH}_text ({_SCRATCH_COLUMNS})",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{_SCRATCH} USING fts5({_SCRATCH_COLUMNS}, tokenize = '{_TOKENIZER}', "
    f"content = '{_SCRATCH}_text')",
]


def _scratch_snippets(session: Session, query: str, ids: Sequence[int]) -> Sequence[Any]:
    """The snippets of incidents far apart, from a scratch FTS5 index of just their text (a TEMP table of this
    connection, emptied each time): walking the whole index between them would read most of a common word's
    matches, and running the query once per id seeks into every segment for each. snippet() reads only the row's
    own text and where the query's terms are in it, so it gives the same excerpt from either index. The statements
    go to the driver as they are (SQLite's ``?`` parameters): six of them, and each would cost more to compile
    than to run."""
    connection = session.connection()
    columns = _SCRATCH_COLUMNS
    marks = ", ".join("?" for _ in ids)
    for statement in (*_SCRATCH_SETUP, f"INSERT INTO {_SCRATCH}({_SCRATCH}) VALUES ('delete-all')",
                      f"DELETE FROM {_SCRATCH}_text"):
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(f"INSERT INTO {_SCRATCH}_text (rowid, {columns}) SELECT rowid, {columns} "
                               f"FROM incident_search WHERE rowid IN ({marks})", tuple(ids))
    connection.exec_driver_sql(f"INSERT INTO {_SCRATCH} (rowid, {columns}) SELECT rowid, {columns} "
                               f"FROM {_SCRATCH}_text")
    snippets = ", ".join(f"snippet({_SCRATCH}, {index}, ?, ?, '…', {SNIPPET_WORDS}) AS {field}"
                         for index, field in enumerate(FIELDS, start=1))
    return connection.exec_driver_sql(f"SELECT rowid AS id, {snippets} FROM {_SCRATCH} WHERE {_SCRATCH} MATCH ?",
                                      (*(MARK_START, MARK_END) * len(FIELDS), query)).all()


def _one_line(excerpt: str) -> str:
    """Timeline entries are stored one per line: shown as one line, the entries apart."""
    return " · ".join(" ".join(line.split()) for line in excerpt.splitlines() if line.strip())


_INCIDENT_COLUMNS = ("id, team_id, number, title, status, severity, declared_at, resolved_at, channel_id, "
                     "root_cause_category, root_cause, resolution, private")


def incidents(session: Session, ids: Sequence[int]) -> dict[int, FoundIncident]:
    """What a hit shows of each incident, by id."""
    if not ids:
        return {}
    statement = text(f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)).columns(declared_at=DateTime(), resolved_at=DateTime(), id=Integer())
    found = {}
    for row in session.execute(statement, {"ids": list(ids)}):
        found[row.id] = FoundIncident(
            incident_id=row.id, team_id=row.team_id, number=row.number, title=row.title, status=Status(row.status),
            severity=row.severity, declared_at=as_utc(row.declared_at),
            resolved_at=None if row.resolved_at is None else as_utc(row.resolved_at), channel_id=row.channel_id,
            root_cause_category=row.root_cause_category, root_cause=row.root_cause, resolution=row.resolution,
            private=bool(row.private))
    return found


# --- similar incidents: the counts and matches bot.domain.search judges by ---------------------------------------


def incident_count(session: Session) -> int:
    """How many incidents there are, near enough: the highest id (ids are given out in order, rarely deleted)."""
    return int(session.execute(text("SELECT coalesce(max(id), 0) FROM incidents")).scalar_one())


def document_counts(session: Session, terms: Sequence[str], cap: int) -> dict[str, int]:
    """For each term, how many incidents mention it anywhere, counting no further than ``cap``."""
    terms = _clean(terms)
    if not terms:
        return {}
    names, params = _term_params(terms)
    if _is_sqlite(session):
        counts = [f"(SELECT count(*) FROM (SELECT 1 FROM incident_search WHERE incident_search MATCH :{n} "
                  f"LIMIT :cap)) AS {n}" for n in names]
        params = {n: _fts_literal(term) for n, term in zip(names, terms, strict=True)}
    else:
        counts = [f"(SELECT count(*) FROM (SELECT 1 FROM incident_search WHERE document @@ "
                  f"plainto_tsquery('english', :{n}) LIMIT :cap) c) AS {n}" for n in names]
    row = session.execute(text("SELECT " + ", ".join(counts)), {**params, "cap": cap}).one()
    return {term: getattr(row, n) for n, term in zip(names, terms, strict=True)}


def similar_candidates(session: Session, terms: Sequence[str], *, exclude: int, team_id: str | None = None,
                       limit: int = 100) -> list[tuple[int, datetime]]:
    """Resolved public incidents whose title, description, root cause or resolution holds any of ``terms``, newest
    first: (id, declared_at). A private one is never a candidate: a similar post is read by whoever is in the new
    incident's channel, now or later, and that is not known to be its members."""
    terms = _clean(terms)
    if not terms:
        return []
    team = "" if team_id is None else " AND i.team_id = :team"
    params: dict[str, Any] = {"team": team_id, "exclude": exclude, "limit": limit, "resolved": Status.RESOLVED.value}
    if _is_sqlite(session):
        params["query"] = _fts_query(terms, any_term=True, key_fields=True)
        sql = ("SELECT incident_search.rowid AS id, i.declared_at FROM incident_search "
               "JOIN incidents i ON i.id = incident_search.rowid WHERE incident_search MATCH :query "
               f"AND i.status = :resolved AND NOT i.private AND i.id <> :exclude{team} "
               "ORDER BY incident_search.rowid DESC LIMIT :limit")
    else:
        names, values = _term_params(terms)
        params.update(values)
        query = _ts_query(names, any_term=True)
        sql = ("SELECT s.incident_id AS id, i.declared_at FROM incident_search s "
               f"JOIN incidents i ON i.id = s.incident_id WHERE s.document @@ {query} "
               f"AND ts_filter(s.document, {_KEY_WEIGHTS}) @@ {query} AND i.status = :resolved AND NOT i.private "
               f"AND s.incident_id <> :exclude{team} ORDER BY s.incident_id DESC LIMIT :limit")
    return [(row.id, as_utc(row.declared_at)) for row in session.execute(text(sql), params)]


def shared_terms(session: Session, ids: Sequence[int], terms: Sequence[str]) -> dict[int, set[str]]:
    """For each incident of ``ids``, which of ``terms`` its title, description, root cause or resolution holds."""
    terms = _clean(terms)
    result: dict[int, set[str]] = {incident_id: set() for incident_id in ids}
    if not ids or not terms:
        return result
    names, params = _term_params(terms)
    if _is_sqlite(session):
        # FTS5 answers "rowid IN (…)" by running the query once per rowid; a rowid range it walks in one pass.
        statement = text(" UNION ALL ".join(
            f"SELECT {i} AS term, rowid AS id FROM incident_search WHERE incident_search MATCH :{n} "
            "AND rowid BETWEEN :low AND :high" for i, n in enumerate(names)))
        params = {n: _fts_query([term], any_term=False, key_fields=True)
                  for n, term in zip(names, terms, strict=True)}
        for row in session.execute(statement, {**params, "low": min(ids), "high": max(ids)}):
            if row.id in result:
                result[row.id].add(terms[row.term])
        return result
    matches = ", ".join(f"key @@ plainto_tsquery('english', :{n}) AS {n}" for n in names)
    statement = text(f"SELECT incident_id AS id, {matches} FROM (SELECT incident_id, "
                     f"ts_filter(document, {_KEY_WEIGHTS}) AS key FROM incident_search WHERE incident_id IN :ids) s")
    for row in session.execute(statement.bindparams(bindparam("ids", expanding=True)), {**params, "ids": list(ids)}):
        result[row.id].update(term for n, term in zip(names, terms, strict=True) if getattr(row, n))
    return result
