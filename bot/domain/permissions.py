"""Who may do what to an incident: the one place this policy lives.

Anyone in the workspace may declare, update, note and acknowledge. Severity changes, role changes,
resolve and reopen belong to the incident's commander, the on-call members of the tiers paged for it,
and the admins named in firebell.yml.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from bot.domain.errors import FirebellError


class Restricted(StrEnum):
    SEVERITY = "change the severity of"
    ROLES = "assign roles in"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    SLA = "pause or resume the SLA clock of"


class NotAllowed(FirebellError):
    pass


def check_allowed(
    action: Restricted, actor: str, *, ref: str, commander: str, on_call: Collection[str], admins: Collection[str]
) -> None:
    if actor == commander or actor in on_call or actor in admins:
        return
    who = [f"the commander (<@{commander}>)"]
    if on_call:
        who.append("the paged on-call (" + ", ".join(f"<@{u}>" for u in sorted(on_call)) + ")")
    if admins:
        who.append("Firebell admins (" + ", ".join(f"<@{u}>" for u in admins) + ")")
    raise NotAllowed(f"Only {', '.join(who[:-1]) + ' and ' + who[-1] if len(who) > 1 else who[0]} "
                     f"can {action.value} {ref}.")
