"""The bot scopes Firebell asks for (manifest.yml asks for exactly these), each with what needs it. `firebell check`
compares them with what the installed token was granted (Slack's x-oauth-scopes header)."""

from __future__ import annotations

BOT_SCOPES: dict[str, str] = {
    "commands": "`/incident` and the shortcuts",
    "chat:write": "the card, posts in incident channels, page DMs, edits (chat.postMessage, chat.update, "
                  "chat.postEphemeral)",
    "chat:write.public": "posting to the broadcast channel without being a member of it",
    "channels:manage": "creating public incident channels, inviting people, setting the topic, archiving a channel "
                       "a failed declare left",
    "groups:write": "the same for private incidents' channels (`/incident declare --private`)",
    "channels:read": "finding a channel whose creation timed out (conversations.list); `firebell check` reads the "
                     "broadcast channel (conversations.info)",
    "groups:read": "who may see a private incident: the members of its channel (conversations.members), asked when "
                   "`/incident list`, search, App Home or a problem would show it",
    "channels:history": "before re-sending a post whose answer was lost, looking whether it got through",
    "groups:history": "the same in private incidents' channels",
    "im:history": "the same for page DMs",
    "channels:join": "joining the public broadcast channel to read it back (the look before a re-send)",
    "im:write": "opening a page's DM conversation to look in it before sending again (conversations.open)",
    "pins:write": "pinning the incident card",
    "files:write": "sharing the post-incident report as a file at resolve",
    "usergroups:read": "paging a tier whose members include a user group (usergroups.users.list)",
    "usergroups:write": "keeping a tier's `usergroup` equal to its current on-call (usergroups.users.update)",
    "users:read": "`firebell check`: each tier member and admin exists and is active (users.info); an on-call "
                  "override's person, and the time zone its times are read in",
}
