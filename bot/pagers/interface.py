"""The pager vocabulary shared by the clients and their callers: config, event, error, interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

PAGERDUTY_URL = "https://events.pagerduty.com"
OPSGENIE_URL = "https://api.opsgenie.com"
DEDUP_KEY_MAX = 255  # PagerDuty's limit; Opsgenie's alias allows 512
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")


class PagerError(Exception):
    """A page did not reach the vendor. One line naming the vendor and the problem; never the key."""


class PagerConfig(BaseModel):
    """The ``pager:`` of a tier in firebell.yml, e.g. ``{type: pagerduty, key_env: FIREBELL_PD_L1_KEY}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["pagerduty", "opsgenie"]
    key_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$", description="environment variable holding the key")
    url: str | None = None  # base URL; default https://events.pagerduty.com or https://api.opsgenie.com

    @field_validator("url")
    @classmethod
    def _base_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"{url!r} is not a base URL like https://api.eu.opsgenie.com")
        return url.rstrip("/")

    def base_url(self) -> str:
        return self.url or (PAGERDUTY_URL if self.type == "pagerduty" else OPSGENIE_URL)


@dataclass(frozen=True)
class PageEvent:
    """One page of one tier for one incident. Firebell builds ``dedup_key`` (one per incident and tier)."""

    dedup_key: str
    summary: str
    severity: str  # sev1..sev4
    source: str
    incident_ref: str
    tier: str
    link: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.dedup_key or len(self.dedup_key) > DEDUP_KEY_MAX:
            raise ValueError(f"dedup_key must be 1 to {DEDUP_KEY_MAX} characters")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}")


class ExternalPager(Protocol):
    name: str

    def trigger(self, event: PageEvent) -> None: ...

    def acknowledge(self, dedup_key: str) -> None: ...

    def resolve(self, dedup_key: str) -> None: ...


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
