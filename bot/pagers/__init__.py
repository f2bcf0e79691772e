"""External pagers a tier's page also goes to: PagerDuty (Events API v2) and Opsgenie (Alert API).

``build_pager(tier.pager, keys)`` gives an ``ExternalPager``; its calls raise ``PagerError`` when the vendor does not
take the page. `Pagers` holds one per tier that names one, built once at the composition root.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.pagers.interface import ExternalPager, PageEvent, PagerConfig, PagerError
from bot.pagers.opsgenie import OpsgeniePager
from bot.pagers.pagerduty import PagerDutyPager

__all__ = ["ExternalPager", "OpsgeniePager", "PageEvent", "PagerConfig", "PagerDutyPager", "PagerError", "Pagers",
           "build_pager"]


def build_pager(config: PagerConfig, keys: Mapping[str, str], *, timeout: float = 10.0) -> ExternalPager:
    """The client ``config`` names, with its key ``keys[config.key_env]``."""
    key = (keys.get(config.key_env) or "").strip()
    if not key:
        raise PagerError(f"{config.type}: environment variable {config.key_env} is not set")
    if config.type == "pagerduty":
        return PagerDutyPager(key, base_url=config.base_url(), timeout=timeout)
    return OpsgeniePager(key, base_url=config.base_url(), timeout=timeout)


@dataclass(frozen=True)
class Pagers:
    """The external pager of each tier that names one. A tier whose key is missing keeps its error, which is
    raised when that tier is paged (and said in the incident's channel), so the Slack page still goes out."""

    by_tier: Mapping[str, ExternalPager | PagerError]

    @classmethod
    def build(cls, tiers: Iterable[tuple[str, PagerConfig | None]], keys: Mapping[str, str]) -> Pagers:
        built: dict[str, ExternalPager | PagerError] = {}
        for name, config in tiers:
            if config is None:
                continue
            try:
                built[name.lower()] = build_pager(config, keys)
            except PagerError as exc:
                built[name.lower()] = exc
        return cls(built)

    def for_tier(self, tier: str) -> ExternalPager | None:
        """The tier's pager, None when it names none; raises PagerError when it cannot be used."""
        found = self.by_tier.get(tier.lower())
        if isinstance(found, PagerError):
            raise found
        return found
