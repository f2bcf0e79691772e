"""Web API methods about people: users.* and usergroups.* (user groups, the `@l1-oncall` handles). Each method
takes the workspace and its `Args` and returns the answer's keys besides `ok`, or raises `ApiError`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.sandbox.api_conversations import paginate
from bot.sandbox.records import Usergroup
from bot.sandbox.workspace import ApiError, Args, Workspace, wall_clock

Method = Callable[[Workspace, Args], dict[str, Any]]


def users_info(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"user": ws.user_json(ws.user(args.opt("user")))}


def users_list(ws: Workspace, args: Args) -> dict[str, Any]:
    members, meta = paginate(ws, args, [ws.user_json(u) for u in ws.users.values()])
    return {"members": members, "cache_ts": int(wall_clock()), "response_metadata": meta}


def usergroup_json(ws: Workspace, group: Usergroup, *, users: bool = True, count: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": group.id,
        "team_id": ws.team_id,
        "is_usergroup": True,
        "is_subteam": True,
        "name": group.name or group.handle,
        "description": group.description,
        "handle": group.handle,
        "is_external": False,
        "date_create": group.created,
        "date_update": group.updated,
        "date_delete": group.updated if group.disabled else 0,
        "auto_type": None,
        "created_by": group.created_by,
        "updated_by": group.updated_by,
        "deleted_by": group.updated_by if group.disabled else None,
        "prefs": {"channels": [], "groups": []},
    }
    if users:
        body["users"] = list(group.users)
    if count:
        body["user_count"] = len(group.users)
    return body


def _group(ws: Workspace, args: Args, *, disabled_too: bool) -> Usergroup:
    group = ws.usergroups.get(args.req("usergroup"))
    if group is None or (group.disabled and not disabled_too):
        raise ApiError("no_such_subteam")
    return group


def usergroups_list(ws: Workspace, args: Args) -> dict[str, Any]:
    groups = [g for g in ws.usergroups.values() if args.flag("include_disabled") or not g.disabled]
    return {"usergroups": [usergroup_json(ws, g, users=args.flag("include_users"), count=args.flag("include_count"))
                           for g in groups]}


def usergroups_users_list(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"users": list(_group(ws, args, disabled_too=args.flag("include_disabled")).users)}


def usergroups_users_update(ws: Workspace, args: Args) -> dict[str, Any]:
    """Replaces the whole member list. It cannot empty a group (Slack: use usergroups.disable), and guests,
    bots, deactivated and unknown users cannot be members."""
    group = _group(ws, args, disabled_too=True)
    users = list(dict.fromkeys(args.csv("users")))
    if not users:
        raise ApiError("no_users_provided")
    for user_id in users:
        user = ws.users.get(user_id)
        if user is None or user.deleted or user.is_bot or user.restricted:
            raise ApiError("invalid_users")
    group.users = users
    group.updated, group.updated_by = int(wall_clock()), ws.bot_user_id
    return {"usergroup": usergroup_json(ws, group, count=args.flag("include_count"))}


METHODS: dict[str, Method] = {
    "users.info": users_info,
    "users.list": users_list,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
    "usergroups.users.update": usergroups_users_update,
}
