"""Fixtures shared by every tier: databases (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.sandbox import SlackStandIn
from storage import migrate
from storage.db import Database, make_engine, normalise_url
from storage.models import Base

POSTGRES_ENV = "FIREBELL_TEST_POSTGRES_URL"

# slack_sdk honours HTTP(S)_PROXY and ignores NO_PROXY: nothing in the tests may go through a proxy.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh database on the configured server for this test session, dropped at the end."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests are off: set {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"firebell_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    test_url = make_url(normalise_url(url)).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(test_url)
    migrate.upgrade(engine)
    engine.dispose()
    yield test_url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Each storage and end-to-end test runs once per database, on a migrated, empty schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'firebell.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        return url
    url = request.getfixturevalue("postgres_server_url")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    yield database
    database.dispose()


# The Slack stand-in, shared by the handler and end-to-end tiers: one server per test session, reset per test.

BROADCAST = "C0INCIDENTS"
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


@pytest.fixture(scope="session")
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as server:
        yield server


@pytest.fixture
def slack(standin: SlackStandIn) -> SlackStandIn:
    standin.reset()
    for user_id, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")):
        standin.add_user(user_id, name)
    standin.add_channel("incidents", channel_id=BROADCAST, members=[ALICE, BOB, CAROL])
    standin.add_channel("general", channel_id="C0GENERAL", members=[ALICE, BOB, CAROL])
    return standin
