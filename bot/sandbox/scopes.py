"""Which OAuth scopes each Web API method needs, as Slack's method reference lists them for bot tokens.

A method passes when the token holds any one of its scopes (Slack names one per conversation type, e.g.
`channels:read` / `groups:read`); methods whose answer depends on the conversation's type check the exact scope
themselves (`Workspace.require_scope`). Every authenticated answer says what the token holds in the
`x-oauth-scopes` header and what the method accepts in `x-accepted-oauth-scopes`, as Slack does.
"""

from __future__ import annotations

# Methods that take the app-level token (xapp-…) only; every other method refuses it.
APP_TOKEN_METHODS: dict[str, tuple[str, ...]] = {
    "apps.connections.open": ("connections:write",),
}

BOT_METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "api.test": (),
    "bookmarks.add": ("bookmarks:write",),
    "chat.delete": ("chat:write",),
    "chat.getPermalink": (),
    "chat.postEphemeral": ("chat:write",),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "conversations.archive": ("channels:manage", "groups:write", "im:write", "mpim:write"),
    "conversations.create": ("channels:manage", "groups:write"),
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.invite": ("channels:manage", "groups:write"),
    "conversations.join": ("channels:join",),
    "conversations.list": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.members": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.open": ("channels:manage", "groups:write", "im:write", "mpim:write"),
    "conversations.setPurpose": ("channels:manage", "groups:write", "im:write", "mpim:write"),
    "conversations.setTopic": ("channels:manage", "groups:write", "im:write", "mpim:write"),
    "files.completeUploadExternal": ("files:write",),
    "files.getUploadURLExternal": ("files:write",),
    "pins.add": ("pins:write",),
    "pins.list": ("pins:read",),
    "pins.remove": ("pins:write",),
    "reactions.add": ("reactions:write",),
    "usergroups.list": ("usergroups:read",),
    "usergroups.users.list": ("usergroups:read",),
    "usergroups.users.update": ("usergroups:write",),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "views.open": (),
    "views.publish": (),
    "views.push": (),
    "views.update": (),
}

# A bot token granted every scope the stand-in's methods know, plus `commands` and `chat:write.public`: the
# default, so that only a test about scopes has to think about them.
ALL_BOT_SCOPES: tuple[str, ...] = tuple(sorted(
    {scope for scopes in BOT_METHOD_SCOPES.values() for scope in scopes} | {"commands", "chat:write.public"}
))


def accepted(method: str) -> tuple[str, ...]:
    """The scopes a method accepts (any one will do); () when it needs none."""
    return APP_TOKEN_METHODS.get(method) or BOT_METHOD_SCOPES.get(method, ())
