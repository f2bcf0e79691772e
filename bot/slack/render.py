"""Pure Block Kit renderers: domain values in, slack_sdk models out. No session, no client."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.model import DEFAULT_SEVERITY, Incident, Severity, Status
from bot.domain.rules import MAX_DESCRIPTION, MAX_TITLE
from bot.slack import text as t
from bot.slack.ids import COMMAND, INPUT_ACTION, Action, DeclareBlock, DeclareMetadata, ViewId

SEVERITY_EMOJI = {Severity.SEV1: "🔴", Severity.SEV2: "🟠", Severity.SEV3: "🟡", Severity.SEV4: "🔵"}

HELP = f"""*Firebell: incident commands*
• `{COMMAND} declare [sev1|sev2|sev3|sev4] <title>`: declare an incident (default sev3); without a title, a form opens
• `{COMMAND} list`: open incidents, newest first
• `{COMMAND} ack`: in an incident channel, acknowledge the incident
• `{COMMAND} help`: this message
You can also use the *Declare incident* shortcut, or the message shortcut on any message."""


def incident_summary(incident: Incident) -> str:
    """One line of plain mrkdwn, also used as the notification text of every card and announcement."""
    return (
        f"{SEVERITY_EMOJI[incident.severity]} *{incident.ref}* ({incident.severity.label}, "
        f"{incident.status.label}): {t.escape(incident.title)}"
    )


def incident_card(incident: Incident) -> list[Block]:
    fields = [
        f"*Severity*\n{SEVERITY_EMOJI[incident.severity]} {incident.severity.label}",
        f"*Status*\n{incident.status.label}",
        f"*Commander*\n{t.user(incident.commander)}",
        f"*Reported by*\n{t.user(incident.declared_by)}",
        f"*Declared*\n{t.date_token(incident.declared_at)}",
    ]
    if incident.acknowledged_at is not None:
        fields.append(
            f"*Acknowledged*\n{t.user(incident.acknowledged_by)}, {t.date_token(incident.acknowledged_at)}"
        )
    blocks: list[Block] = [
        HeaderBlock(block_id="card_title", text=t.truncate(f"{incident.ref}: {incident.title}", 150)),
        SectionBlock(block_id="card_fields", fields=fields),
    ]
    if incident.description:
        blocks.append(SectionBlock(block_id="card_description", text=t.truncate(t.escape(incident.description), 3000)))
    buttons = []
    if incident.status is Status.DECLARED:
        buttons.append(
            ButtonElement(text="Acknowledge", action_id=Action.ACKNOWLEDGE, value=str(incident.id), style="primary")
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="card_actions", elements=buttons))
    blocks.append(
        ContextBlock(block_id="card_help", elements=[MarkdownTextObject(text=f"`{COMMAND} help` lists the commands")])
    )
    return blocks


def channel_topic(incident: Incident) -> str:
    return t.truncate(f"{incident.severity.label} · {incident.status.label} · {incident.title}", 250)


def announcement(incident: Incident) -> list[Block]:
    return [
        SectionBlock(
            block_id="announcement",
            text=(
                f"{incident_summary(incident)}\nDeclared by {t.user(incident.declared_by)} "
                f"{t.date_token(incident.declared_at)}. Join {t.channel(incident.channel_id)}"
            ),
        )
    ]


def incident_list(incidents: Sequence[Incident]) -> list[Block]:
    if not incidents:
        return [SectionBlock(text="No open incidents. :tada:")]
    lines = [
        f"{incident_summary(i)} · {t.channel(i.channel_id)} · declared {t.date_token(i.declared_at)}"
        for i in incidents
    ]
    blocks: list[Block] = [HeaderBlock(text=f"Open incidents ({len(incidents)})")]
    chunk: list[str] = []
    for line in lines:  # a section holds 3,000 characters; split the list across sections
        if chunk and len("\n".join([*chunk, line])) > 3000:
            blocks.append(SectionBlock(text="\n".join(chunk)))
            chunk = []
        chunk.append(t.truncate(line, 3000))
    blocks.append(SectionBlock(text="\n".join(chunk)))
    return blocks[:50]


def severity_option(severity: Severity) -> Option:
    return Option(value=severity.value, text=f"{SEVERITY_EMOJI[severity]} {severity.label}")


def declare_modal(
    metadata: DeclareMetadata, *, title: str = "", severity: Severity = DEFAULT_SEVERITY, description: str = ""
) -> View:
    return View(
        type="modal",
        callback_id=ViewId.DECLARE,
        title="Declare an incident",
        submit="Declare",
        close="Cancel",
        private_metadata=metadata.model_dump_json(exclude_none=True),
        blocks=[
            InputBlock(
                block_id=DeclareBlock.TITLE,
                label="Title",
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION, initial_value=t.truncate(title, MAX_TITLE) or None,
                    max_length=MAX_TITLE, placeholder="What is broken, for whom?",
                ),
            ),
            InputBlock(
                block_id=DeclareBlock.SEVERITY,
                label="Severity",
                element=StaticSelectElement(
                    action_id=INPUT_ACTION,
                    options=[severity_option(s) for s in Severity],
                    initial_option=severity_option(severity),
                ),
            ),
            InputBlock(
                block_id=DeclareBlock.DESCRIPTION,
                label="Description",
                optional=True,
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION, multiline=True, max_length=MAX_DESCRIPTION,
                    initial_value=t.truncate(description, MAX_DESCRIPTION) or None,
                ),
            ),
        ],
    )


def declared_message(incident: Incident, problems: Sequence[str]) -> str:
    message = f"{incident_summary(incident)} is declared: {t.channel(incident.channel_id)}"
    if problems:
        message += "\n:warning: Slack refused some steps: " + "; ".join(problems) + "."
    return message
