"""Run Alembic migrations shipped inside the package (``firebell db upgrade``, and ``serve`` on start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


class SchemaNewer(Exception):
    """The database was upgraded by a newer Firebell than this one."""


def upgrade(engine: Engine, revision: str = "head") -> None:
    current = current_revision(engine)
    if current is not None and current not in known_revisions(engine):
        raise SchemaNewer(f"the database is at revision {current}, which this Firebell does not know: this Firebell "
                          f"(revision {head_revision(engine)}) is older than the database; run the newer Firebell "
                          "that upgraded it")
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine | None = None) -> str | None:
    """The revision this code's migrations end at (no database needed)."""
    return _scripts().get_current_head()


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def known_revisions(engine: Engine | None = None) -> frozenset[str]:
    """Every revision this code ships (a database at another one was upgraded by a newer Firebell)."""
    return frozenset(script.revision for script in _scripts().walk_revisions())
