"""Similar past incidents on SQLite and PostgreSQL: which resolved incidents a new one is shown, and which not."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.services import knowledge
from storage.db import Database
from tests.storage.incidents_sql import add_event, add_incident


def similar_to(db: Database, incident_id: int, title: str, description: str = "", team_id: str = "T1") -> list[int]:
    with db.read() as session:
        found = knowledge.similar(session, incident_id=incident_id, team_id=team_id, title=title,
                                  description=description)
    return [item.incident.number for item in found]


def test_the_second_checkout_outage_finds_the_first(db):
    with db.transaction() as session:
        add_incident(session, 1, "Checkout API returning 502 errors", description="Customers cannot pay at checkout",
                     status="resolved", category="capacity", root_cause="The payments connection pool was exhausted",
                     resolution="Raised the pool size and restarted the checkout pods")
        new = add_incident(session, 2, "Checkout 502 errors again")
    with db.read() as session:
        [found] = knowledge.similar(session, incident_id=new, team_id="T1", title="Checkout 502 errors again",
                                    description="")
    assert found.incident.number == 1
    assert (found.incident.root_cause_category, found.incident.root_cause, found.incident.resolution) == (
        "capacity", "The payments connection pool was exhausted", "Raised the pool size and restarted the checkout pods")
    assert found.shared == {"checkout", "502", "errors"} and found.score == 1.0


def test_a_past_incident_about_something_else_of_the_same_service_is_not_similar(db):
    with db.transaction() as session:
        add_incident(session, 1, "Checkout API returning 502 errors", status="resolved", root_cause="pool exhausted",
                     resolution="raised the pool")
        new = add_incident(session, 2, "Checkout latency after the deploy")
    assert similar_to(db, new, "Checkout latency after the deploy") == []


@dataclass
class History:
    db: Database
    next_number: int


@pytest.fixture
def history(db) -> History:
    """A team's past: many incidents about generic things (errors, the API, latency), a few specific ones."""
    services = ["search", "billing", "profile", "inventory", "shipping", "reports", "auth", "catalog"]
    number = 0
    with db.transaction() as session:
        for round_ in range(6):
            for service in services:
                number += 1
                add_incident(session, number, f"{service} API errors and latency", status="resolved",
                             description=f"The {service} service returned errors", category="software-bug",
                             root_cause=f"A bad release of {service} round {round_}", resolution="Rolled back")
        number += 1
        add_incident(session, number, "Kafka consumer lag on the orders topic", status="resolved",
                     category="capacity", root_cause="Too few partitions for the Black Friday load",
                     resolution="Added partitions and consumers")
        number += 1
        open_one = add_incident(session, number, "Kafka consumer lag growing", status="investigating")
        add_event(session, open_one, "update", "orders topic is behind")
        number += 1
        add_incident(session, number, "Kafka consumer lag", status="resolved", team_id="T2",
                     root_cause="another team's", resolution="theirs")
    return History(db, number + 1)


def test_a_specific_new_incident_finds_the_specific_past_one_only(history):
    with history.db.transaction() as session:
        new = add_incident(session, history.next_number, "Kafka orders consumer lag")
    assert similar_to(history.db, new, "Kafka orders consumer lag") == [49]  # resolved, this team's


def test_sharing_only_generic_words_is_not_similar(history):
    with history.db.transaction() as session:
        new = add_incident(session, history.next_number, "Checkout API errors")
    assert similar_to(history.db, new, "Checkout API errors", "latency") == []


def test_a_generic_incident_matching_many_shows_at_most_three_newest_first(history):
    with history.db.transaction() as session:
        new = add_incident(session, history.next_number, "billing API errors and latency")
    found = similar_to(history.db, new, "billing API errors and latency", "The billing service returned errors")
    assert found == [42, 34, 26]  # the billing incidents of the last three rounds


def test_nothing_to_compare_finds_nothing(db):
    with db.transaction() as session:
        new = add_incident(session, 1, "The and of")
        add_incident(session, 2, "The and of", status="resolved", root_cause="x", resolution="y")
    assert similar_to(db, new, "The and of") == []
    assert similar_to(db, new, '"" * -', "🔥") == []
