"""Full-text search on SQLite (FTS5) and PostgreSQL (tsvector + GIN): what is searched, how it ranks, that the index
follows every change in the same transaction, and that no typed text is ever an error."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic import command
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from bot.domain.search import SearchHit, query_terms
from bot.services import knowledge
from storage import migrate
from storage import search as index
from storage.db import Database, make_engine
from tests.storage.incidents_sql import START, add_event, add_incident, update_incident


def numbers(hits: list[SearchHit]) -> list[int]:
    return [hit.incident.number for hit in hits]


def find(db: Database, typed: str, team_id: str | None = "T1") -> list[int]:
    with db.read() as session:
        return numbers(index.search(session, query_terms(typed), team_id=team_id))


def test_words_match_their_inflections(db):
    with db.transaction() as session:
        add_incident(session, 1, "Checkout timeout on payment", description="Requests were failing for users")
        add_incident(session, 2, "Search is slow")
    assert find(db, "timeouts") == [1]
    assert find(db, "TIMEOUT") == [1]
    assert find(db, "failed request") == [1]
    assert find(db, "payments") == [1]


def test_every_kind_of_text_is_searched_and_only_that(db):
    with db.transaction() as session:
        incident = add_incident(session, 1, "Title words alpha", description="description words bravo",
                                status="resolved", root_cause="root cause words charlie",
                                resolution="resolution words delta")
        add_event(session, incident, "update", "an update with echo")
        add_event(session, incident, "note", "a note with foxtrot")
        add_event(session, incident, "message", "a Slack message with golf")
        add_event(session, incident, "status", "Status Investigating → Identified: found hotel")
        add_event(session, incident, "reopened", "reopened because of india")
        add_event(session, incident, "role", "commander: juliet")
        add_event(session, incident, "paged", "Paged kilo")
        add_event(session, incident, "status", "Status Identified → Monitoring")
    for word in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"):
        assert find(db, word) == [1], word
    for word in ("juliet", "kilo", "monitoring", "investigating"):
        assert find(db, word) == [], word


def test_the_index_follows_changes_in_the_same_transaction(db):
    with db.transaction() as session:
        incident = add_incident(session, 1, "Disk full on the primary")
        assert numbers(index.search(session, ["disk"], team_id="T1")) == [1]  # before the commit, in it
    with db.transaction() as session:
        update_incident(session, incident, title="Memory leak in the worker", root_cause="a cache without bound",
                        resolution="bounded the cache")
        event = add_event(session, incident, "note", "heap dumps show strings")
    assert find(db, "disk") == []
    assert find(db, "memory leak") == [1]
    assert find(db, "bounded cache") == [1]
    assert find(db, "strings") == [1]
    with db.transaction() as session:
        session.execute(text("UPDATE timeline_events SET text = 'heap dumps show sockets' WHERE id = :id"),
                        {"id": event})
    assert (find(db, "strings"), find(db, "sockets")) == ([], [1])
    with db.transaction() as session:
        session.execute(text("DELETE FROM timeline_events WHERE id = :id"), {"id": event})
    assert find(db, "sockets") == []
    assert find(db, "memory") == [1]
    with db.transaction() as session:
        session.execute(text("DELETE FROM incidents WHERE id = :id"), {"id": incident})
    assert find(db, "memory") == []


def test_a_rolled_back_change_leaves_the_index_as_it_was(db):
    with db.transaction() as session:
        incident = add_incident(session, 1, "Queue backlog")
    with pytest.raises(RuntimeError), db.transaction() as session:
        update_incident(session, incident, title="Something else entirely")
        add_event(session, incident, "note", "zebra")
        raise RuntimeError("the use case failed")
    assert find(db, "backlog") == [1]
    assert find(db, "zebra") == []


def test_all_words_must_match_and_the_best_comes_first(db):
    with db.transaction() as session:
        note_only = add_incident(session, 1, "Latency on search")
        add_event(session, note_only, "note", "the redis cache was cold")
        add_incident(session, 2, "Redis cache evictions", description="memory pressure")
        add_incident(session, 3, "Redis failover")
    assert find(db, "redis cache") == [2, 1]  # in the title first; incident 3 lacks "cache"
    assert find(db, "redis") == [3, 2, 1]  # in the title of two: the newer first, then the note


def test_equal_matches_come_newest_first_and_at_most_ten(db):
    with db.transaction() as session:
        for number in range(1, 16):
            add_incident(session, number, "Certificate expired", declared_at=START + timedelta(days=30 - number))
    assert find(db, "certificate") == list(range(1, 11))  # incident 1 was declared last


def test_search_is_per_team_unless_asked_for_all(db):
    with db.transaction() as session:
        add_incident(session, 1, "DNS outage", team_id="T1")
        add_incident(session, 1, "DNS outage too", team_id="T2")
    assert find(db, "dns", team_id="T1") == [1]
    with db.read() as session:
        teams = [hit.incident.team_id for hit in index.search(session, ["dns"])]
    assert sorted(teams) == ["T1", "T2"]


def test_a_hit_shows_where_it_matched(db):
    with db.transaction() as session:
        incident = add_incident(session, 1, "Payments down", description="Card payments fail at the gateway",
                                status="resolved", category="dependency", root_cause="The acquirer rotated a key",
                                resolution="Deployed the new key")
        add_event(session, incident, "update", "Still failing; the acquirer is looking into their side")
        add_incident(session, 2, "Zeppelin hangar fire", description="Nothing else to say")
    with db.read() as session:
        [hit] = index.search(session, ["acquirer", "key"], team_id="T1")
        [title_only] = index.search(session, ["zeppelin"], team_id="T1")
    assert hit.snippet_field == "root_cause"
    assert hit.snippet == f"The {index.MARK_START}acquirer{index.MARK_END} rotated a {index.MARK_START}key" \
                          f"{index.MARK_END}"
    found = hit.incident
    assert (found.number, found.status, found.root_cause_category, found.resolution) == (
        1, "resolved", "dependency", "Deployed the new key")
    assert found.declared_at == START + timedelta(hours=1) and found.declared_at.tzinfo is not None
    assert (title_only.incident.number, title_only.snippet, title_only.snippet_field) == (2, None, None)


def test_a_long_update_is_cut_to_a_snippet_around_the_match(db):
    filler = " ".join(f"word{n}" for n in range(300))
    with db.transaction() as session:
        incident = add_incident(session, 1, "Slow builds")
        add_event(session, incident, "update", f"{filler} the artifact cache was evicted {filler}")
    with db.read() as session:
        [hit] = index.search(session, ["evicted"], team_id="T1")
    assert hit.snippet_field == "updates"
    assert f"{index.MARK_START}evicted{index.MARK_END}" in hit.snippet
    assert len(hit.snippet.split()) <= index.SNIPPET_WORDS + 2


def test_hits_far_apart_have_the_same_snippets_as_hits_close_together(db, monkeypatch):
    """On SQLite the snippets of hits far apart come from a scratch index of their text: the same excerpts."""
    filler = " ".join(f"word{n}" for n in range(40))
    with db.transaction() as session:
        for number in range(1, 13):
            incident = add_incident(session, number, f"Checkout {number} slow", description=f"cache misses {filler}",
                                    status="resolved" if number % 3 else "declared",
                                    root_cause="the cache was cold" if number % 3 else None,
                                    resolution="warmed the cache" if number % 3 else None)
            add_event(session, incident, "update", f"{filler} the checkout cache evicted keys {filler}")
            add_event(session, incident, "note", "cache hit ratio back to normal after a naïve retry")

    def hits(span: int, typed: str) -> list[tuple[int, str | None, str | None, float]]:
        monkeypatch.setattr(index, "SNIPPET_SPAN", span)
        with db.read() as session:
            found = knowledge.find(session, typed, team_id="T1").hits
        return [(hit.incident.number, hit.snippet_field, hit.snippet, hit.score) for hit in found]

    for typed in ("cache", "checkout cache", "cold cache", "evicted word3", "ratio normal zzz", "caches evicting",
                  "naive retries"):
        close = hits(10**9, typed)
        assert close, typed
        assert hits(0, typed) == close, typed
        assert hits(0, typed) == close, typed  # the scratch index emptied and filled again


def _common_word_and_a_rare_one(session) -> None:
    """70 incidents say "api" (more than the newest 64 FTS5 counts when it estimates), four say "redis"."""
    for number in range(1, 71):
        add_incident(session, number, f"Outage {number}", description="the api returned errors")
    add_incident(session, 71, "Redis down", description="api errors")
    add_incident(session, 72, "Latency", description="api and redis")
    note = add_incident(session, 73, "Slow pages", description="api")
    add_event(session, note, "note", "redis was swapping")
    add_incident(session, 74, "Redis failover")  # no "api": every word must still match


def test_a_word_too_common_to_count_selects_but_the_rarer_ones_rank(db):
    with db.transaction() as session:
        _common_word_and_a_rare_one(session)
    with db.read() as session:
        budgeted = numbers(index.search(session, ["redis", "api"], team_id="T1", rank_budget=10))
        full = numbers(index.search(session, ["redis", "api"], team_id="T1"))
    assert budgeted == full == [71, 72, 73]  # the title, then the description, then the note


def test_when_every_word_is_too_common_to_count_the_rarest_ranks(db):
    with db.transaction() as session:
        _common_word_and_a_rare_one(session)
    with db.read() as session:
        hits = numbers(index.search(session, ["api", "errors"], team_id="T1", rank_budget=1))
    assert len(hits) == 10 and set(hits) <= set(range(1, 72))
    assert hits[0] == 71  # "errors" in a shorter description; the rest are equal, the newest first
    assert hits[1:] == list(range(70, 61, -1))


def test_a_word_too_common_to_count_does_not_rank_on_sqlite(db):
    with db.transaction() as session:
        for number in range(1, 71):
            add_incident(session, number, f"Outage {number}", description="the api returned errors")
        add_incident(session, 71, "Api outage at noon for sure", description="redis evicted keys")  # as long as:
        add_incident(session, 72, "Outage at noon", description="redis evicted keys", status="resolved",
                     root_cause="the api", resolution="none")
    with db.read() as session:
        full = numbers(index.search(session, ["redis", "api"], team_id="T1"))
        budgeted = numbers(index.search(session, ["redis", "api"], team_id="T1", rank_budget=10))
    assert full == [71, 72]  # "api" in the title weighs more than in the root cause
    if db.dialect == "sqlite":  # counting "api" would cost more than the budget: "redis" alone ranks, equal in both
        assert budgeted == [72, 71]


def test_a_write_changes_which_words_rank_at_once(db):
    """On SQLite the words' counts are kept between searches until the index changes: the next search after a write
    ranks as a search on a fresh connection does."""
    with db.transaction() as session:
        for number in range(1, 71):
            add_incident(session, number, f"Outage {number}", description="the api returned errors")
        add_incident(session, 71, "Api outage at noon for sure", description="redis evicted keys")
        add_incident(session, 72, "Outage at noon", description="redis evicted keys", status="resolved",
                     root_cause="the api", resolution="none")

    def budgeted(database: Database) -> list[int]:
        with database.read() as session:
            return numbers(index.search(session, ["redis", "api"], team_id="T1", rank_budget=10))

    before = budgeted(db)
    assert budgeted(db) == before
    with db.transaction() as session:  # "redis" becomes the commoner word: "api" alone ranks now
        for number in range(73, 273):
            add_incident(session, number, f"Cache {number}", description="redis restarted")
    fresh = Database.from_url(str(db.engine.url))
    try:
        assert budgeted(db) == budgeted(fresh)
    finally:
        fresh.dispose()
    if db.dialect == "sqlite":
        assert (before, budgeted(db)) == ([72, 71], [71, 72])


def test_any_term_finds_incidents_holding_some_of_the_words(db):
    with db.transaction() as session:
        add_incident(session, 1, "Kafka consumer lag")
        add_incident(session, 2, "Kafka broker disk")
    assert find(db, "kafka lag broker") == []
    with db.read() as session:
        assert sorted(numbers(index.search(session, ["kafka", "lag", "broker"], team_id="T1", any_term=True))) == [1, 2]
        results = knowledge.find(session, "kafka lag broker", team_id="T1")
    assert (sorted(numbers(list(results.hits))), results.every_term) == ([1, 2], False)


NASTY = [
    '"', '""', '"unbalanced', "OR", "AND", "NOT", "a OR b", "NEAR(", "NEAR(a b", "*", "time*", "-", "-checkout",
    ":", "title:checkout", "{title}: x", "^start", "(", ")", "((", "'; DROP TABLE incidents; --", "1=1 OR 'a'='a'",
    "%", "_", "\\", "\x00", "\x00checkout", "\ud800", "🔥🔥", "checkout 🔥", "ﷺ", "\u0301", "e\u0301", "NULL",
    "SELECT * FROM incidents", "$$", "'", "&", "|", "!", "<->", "a:*", "''", "x" * 2000,
    " ".join(["checkout"] * 400), "timeouts " * 250, "\n\t\r", "   ",
]


@pytest.mark.parametrize("typed", NASTY)
def test_any_typed_text_is_a_query_never_an_error(db, typed):
    with db.transaction() as session:
        add_incident(session, 1, "Checkout timeouts", description="OR NEAR( * - : the usual suspects")
    with db.read() as session:
        results = knowledge.find(session, typed, team_id="T1")
        raw = index.search(session, [typed], team_id="T1")  # even a term no tokeniser cut is a literal
        budgeted = index.search(session, [typed, "checkout"], team_id="T1", rank_budget=0)  # SQLite estimates
    assert len(results.hits) <= index.MAX_HITS and len(raw) <= index.MAX_HITS and len(budgeted) <= index.MAX_HITS
    if "checkout" in typed.lower() or "timeouts" in typed:
        assert numbers(list(results.hits)) == [1]


@pytest.fixture
def stored(db) -> Database:
    with db.transaction() as session:
        first = add_incident(session, 1, "Checkout API returning 502s", description="Customers cannot pay",
                             status="resolved", root_cause="Connection pool exhausted", resolution="Raised the pool")
        add_event(session, first, "update", "Timeouts from the payments gateway, NEAR( the \"edge\" OR not")
        add_incident(session, 2, "Café ñandú naïve — 東京 サーバー 🔥", description="SELECT * FROM x; -- :)")
    return db


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(typed=st.text(max_size=2000))
def test_property_arbitrary_text_searches_without_error(stored, typed):
    with stored.read() as session:
        results = knowledge.find(session, typed, team_id="T1")
        raw = index.search(session, [typed, typed[::-1]], team_id="T1", any_term=True)
        budgeted = index.search(session, [typed, "payments"], team_id="T1", any_term=True, rank_budget=0)
    for hits in (results.hits, raw, budgeted):
        assert len(hits) <= index.MAX_HITS
        assert all(hit.incident.number in (1, 2) for hit in hits)
        assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=12), min_size=1,
                     max_size=8), pick=st.integers(min_value=0))
def test_property_a_stored_word_finds_its_incident(db, body, pick):
    word = body[pick % len(body)]
    with db.transaction() as session:
        if db.dialect == "postgresql":  # PostgreSQL's own stop words ("further", "above") are not indexed
            assume(session.execute(text("SELECT to_tsvector('english', :w) <> ''::tsvector"), {"w": word}).scalar())
        assume(query_terms(word) == (word,))
        session.execute(text("DELETE FROM incidents"))
        incident = add_incident(session, 1, "Something broke")
        add_event(session, incident, "note", " ".join(body))
    assert find(db, word) == [1]


@pytest.fixture
def empty_database_url(database_url: str, tmp_path) -> Iterator[str]:
    """A database of its own, with no tables yet, on the same kind of server as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    name = f"firebell_old_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_incidents_stored_before_the_migration_are_indexed_and_it_goes_back_cleanly(empty_database_url):
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0007")
    old = Database(engine)
    with old.transaction() as session:
        incident = add_incident(session, 1, "Old outage", status="resolved", root_cause="expired token",
                                resolution="rotated it")
        add_event(session, incident, "update", "the vault was sealed")
        add_event(session, incident, "status", "Status Investigating → Identified: unseal keys lost")
    migrate.upgrade(engine)
    assert (find(old, "token"), find(old, "sealed"), find(old, "unseal keys")) == ([1], [1], [1])
    command.downgrade(migrate.alembic_config(engine), "0007")
    with engine.connect() as connection:
        assert "incident_search" not in inspect(connection).get_table_names()
    migrate.upgrade(engine)
    assert find(old, "sealed") == [1]
    old.dispose()
