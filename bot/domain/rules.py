"""Rules for what an incident may hold and how its state may change. Pure: no Slack, no SQL, no clock."""

from __future__ import annotations

from bot.domain.errors import InvalidInput
from bot.domain.incident import Severity

MAX_TITLE = 150  # fits a Block Kit header with the INC number in front of it
MAX_DESCRIPTION = 3000


def clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("title", "An incident needs a title: say what is broken, e.g. `Checkout returns 500s`.")
    if len(title) > MAX_TITLE:
        raise InvalidInput(
            "title", f"The title is {len(title):,} characters long; keep it to {MAX_TITLE} and put details in the "
            "description."
        )
    return title


def clean_description(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput("description", f"The description is over {MAX_DESCRIPTION:,} characters.")
    return description


def parse_severity(text: str) -> Severity:
    """``sev2``, ``SEV2`` or ``2``."""
    value = text.strip().lower()
    if value.isdigit():
        value = f"sev{value}"
    try:
        return Severity(value)
    except ValueError:
        raise InvalidInput("severity", f"`{text}` is not a severity; use sev1, sev2, sev3 or sev4.") from None
