"""External pagers a tier's page also goes to: PagerDuty (Events API v2) and Opsgenie (Alert API).

``build_pager(tier.pager, os.environ)`` gives an ``ExternalPager``; its calls raise ``PagerError`` when the
vendor does not take the page. ``bot.pagers.standins`` holds local HTTP stand-ins of both vendors for tests.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.pagers.model import ExternalPager, PageEvent, PagerConfig, PagerError
from bot.pagers.opsgenie import OpsgeniePager
from bot.pagers.pagerduty import PagerDutyPager

__all__ = ["ExternalPager", "OpsgeniePager", "PageEvent", "PagerConfig", "PagerDutyPager", "PagerError",
           "build_pager"]


def build_pager(config: PagerConfig, environ: Mapping[str, str], *, timeout: float = 10.0) -> ExternalPager:
    """The client ``config`` names, with its key read from ``environ[config.key_env]``."""
    key = (environ.get(config.key_env) or "").strip()
    if not key:
        raise PagerError(f"{config.type}: environment variable {config.key_env} is not set")
    if config.type == "pagerduty":
        return PagerDutyPager(key, base_url=config.base_url(), timeout=timeout)
    return OpsgeniePager(key, base_url=config.base_url(), timeout=timeout)
