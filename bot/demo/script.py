"""The demo's script: scenes played in order against the Slack stand-in. A scene is a function of the `Stage`;
add one by writing it here (or in a module of its own) and listing it in SCENES."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.demo.transcript import PEOPLE, Transcript, is_json
from bot.sandbox import SlackDriver, SlackStandIn

BROADCAST = "C0INCIDENTS"


def say(text: str) -> None:
    print(f"\n▶ {text}")


class DemoClock:
    """Firebell's clock in the demo: it stands still while a scene plays, and moves on when the script says."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Stage:
    driver: SlackDriver
    slack: SlackStandIn
    transcript: Transcript
    quiet: Callable[[], object]  # waits until Firebell's work after its answers is done
    clock: DemoClock
    facts: dict[str, Any] = field(default_factory=dict)  # what a scene learnt that a later one needs

    def later(self, what: str, **delta: float) -> None:
        """Time passes, as it does in an incident: ``what`` says how much."""
        self.clock.now += timedelta(**delta)
        print(f"\n⏱ {what} ({self.clock.now:%a %H:%M} UTC)")

    def command(self, user: str, text: str, channel: str) -> None:
        where, typed = self.transcript.channel_name(channel), self.transcript.plain(text)
        say(f"{PEOPLE[user]} types in #{where}: /incident {typed}")
        answer = self.driver.slash_command(user, text, channel_id=channel)
        shown = self.transcript.plain(answer.text)
        if is_json(answer.headers):
            body = answer.json()
            shown = ("\n" + "\n".join(self.transcript.blocks(body["blocks"])) if body.get("blocks")
                     else body.get("text", ""))
        if shown.strip():
            print(f"  (only {PEOPLE[user]} sees) Firebell: {shown}")

    def settle(self, predicate: Callable[[], object]) -> None:
        """Wait for Firebell's work after its answer, then print what is new."""
        self.slack.wait_for(predicate)
        self.quiet()  # and for everything it queued, so the transcript reads in a stable order
        self.transcript.new_messages()


def who_is_on_call(stage: Stage) -> None:
    say("L1 is a rotation (firebell.yml `schedule`): carol and dan take it in turns, a week each")
    stage.command("U0ALICE", "oncall", "C0GENERAL")


def declare_incident(stage: Stage) -> None:
    slack, transcript = stage.slack, stage.transcript
    stage.command("U0ALICE", "declare sev2 Checkout returns 500s for EU customers", "C0GENERAL")
    channel = slack.wait_for(lambda: next((c for c in slack.channels if c.name.startswith("inc-1-")), None))
    assert channel is not None  # wait_for returns what the predicate found
    slack.wait_for(lambda: slack.channel(channel.id).pins and slack.messages(BROADCAST))
    reply = slack.wait_for(lambda: slack.response_posts())[0]
    print(f"  (only alice sees) Firebell: {transcript.plain(reply['text'])}")
    print(f"  Slack: #{channel.name} created, alice invited; topic: {slack.channel(channel.id).topic}")
    transcript.new_messages()
    stage.facts["channel"] = channel
    stage.facts["card_ts"] = slack.channel(channel.id).pins[0]


def acknowledge_the_page(stage: Stage) -> None:
    slack, transcript, channel = stage.slack, stage.transcript, stage.facts["channel"]
    page = slack.wait_for(lambda: [m for m in slack.dms("U0CAROL") if "You are paged" in m.text])[0]
    print("  Slack: SEV2 pages tier L1 (firebell.yml), so carol, on call this week, gets a DM:")
    print("\n".join(transcript.blocks(page.blocks)))
    stage.quiet()
    print(f"  Slack: dan, not on call this week, gets {len(slack.dms('U0DAN'))} DMs")
    transcript.new_messages()
    stage.later("4 minutes later: carol is at her laptop", minutes=4)
    say("carol clicks [ Acknowledge ] in her DM")
    stage.driver.click("U0CAROL", channel_id=page.channel, message_ts=page.ts, action_id="page_acknowledge")
    stage.settle(lambda: any("acknowledged the page" in m.text for m in slack.messages(channel.id)))
    print("  Slack: carol's DM now reads: " + transcript.plain(slack.message(page.channel, page.ts).text))
    stage.command("U0ALICE", "sla", channel.id)


def run_the_incident(stage: Stage) -> None:
    slack, channel = stage.slack, stage.facts["channel"]
    stage.later("2 minutes later", minutes=2)
    stage.command("U0ALICE", "role comms <@U0BOB|bob>", channel.id)
    stage.settle(lambda: any("*comms*" in m.text for m in slack.messages(channel.id)))

    stage.later("11 minutes later: the cause is found", minutes=11)
    stage.command("U0BOB", "status identified A config push sent EU traffic to a drained pool", channel.id)
    stage.settle(lambda: slack.channel(channel.id).topic.startswith("SEV2 · Identified"))

    stage.later("3 minutes later", minutes=3)
    stage.command("U0ALICE", "note Rolling back the config push", channel.id)

    stage.later("12 minutes later: the rollback is out", minutes=12)
    say("bob clicks [ Post update ] on the card and fills in the form")
    stage.driver.click("U0BOB", channel_id=channel.id, message_ts=stage.facts["card_ts"],
                       action_id="incident_post_update")
    form = slack.wait_for(lambda: slack.open_views("U0BOB"))[-1]
    stage.driver.submit_view("U0BOB", form.id, {
        "text": {"value": "Rollback done; error rate back to normal. Watching."}, "status": {"value": "monitoring"}})
    stage.settle(lambda: slack.channel(channel.id).topic.startswith("SEV2 · Monitoring"))


def resolve_it(stage: Stage) -> None:
    slack, channel = stage.slack, stage.facts["channel"]
    stage.later("25 minutes later: the error rate stayed normal", minutes=25)
    due = stage.clock.now.date() + timedelta(days=3)
    say(f"alice types in #{channel.name}: /incident resolve, and fills in the resolve form")
    stage.driver.slash_command("U0ALICE", "resolve", channel_id=channel.id)
    form = slack.wait_for(lambda: [v for v in slack.open_views("U0ALICE") if "resolve" in v.callback_id])[-1]
    stage.driver.submit_view("U0ALICE", form.id, {
        "root_cause_category": {"value": "configuration"},
        "root_cause": {"value": "A config push pointed EU checkout at a pool that had been drained."},
        "resolution": {"value": "Rolled the config back."},
        "follow_ups": {"value": f"Validate pool targets before a push @bob due {due}\n"
                                "Alert when a pool has no healthy hosts"},
        "lessons_learned": {"value": "A config push needs the same review as code."},
    })
    files = slack.wait_for(lambda: [f for f in slack.files if f.completed])
    stage.settle(lambda: any("is resolved" in str(m.blocks) for m in slack.messages(channel.id)))
    print(f"  Slack: file {files[0].filename} shared in #{channel.name}:")
    for line in (files[0].content or b"").decode().splitlines()[:14]:
        print(f"    ┆ {stage.transcript.plain(line)}")
    print("    ┆ …")


def look_back(stage: Stage) -> None:
    slack = stage.slack
    stage.command("U0ALICE", "timeline", stage.facts["channel"].id)
    stage.command("U0BOB", "list", "C0GENERAL")
    stage.command("U0BOB", "declare sev9 Oops", "C0GENERAL")
    told = slack.wait_for(lambda: [m for m in slack.dms("U0BOB") if "You own follow-up" in m.text])
    print(f"  Slack: bob gets a DM: {stage.transcript.plain(told[0].text)}")
    stage.command("U0BOB", "followups mine", "C0GENERAL")
    asked = slack.wait_for(lambda: [m for m in slack.dms("U0CAROL") if "How did the response" in m.text])
    say("carol, paged for INC-1, is asked how the response went, and clicks [ 5 · very well ]")
    stage.driver.click("U0CAROL", channel_id=asked[0].channel, message_ts=asked[0].ts, action_id="feedback_score_5")
    form = slack.wait_for(lambda: slack.open_views("U0CAROL"))[-1]
    stage.driver.submit_view("U0CAROL", form.id, {"comment": {"value": "The page found me at once."}})
    stage.quiet()


def learn_from_it(stage: Stage) -> None:
    slack, channel = stage.slack, stage.facts["channel"]
    stage.later("The next morning", hours=18)
    say("alice records the cause behind INC-1 as a problem, so that the next incident like it finds it")
    stage.command("U0ALICE", "problem new Config pushes can point checkout at a drained pool", channel.id)
    stage.settle(lambda: any("PRB-1" in m.text for m in slack.messages(channel.id)))
    stage.command("U0ALICE", "problem PRB-1 workaround Roll the config back, then check the pool has healthy hosts",
                  channel.id)
    stage.command("U0ALICE", "problem PRB-1 status known-error", channel.id)


def the_next_time(stage: Stage) -> None:
    """A week later, something like INC-1 happens again: its channel is shown what fixed INC-1."""
    slack, transcript = stage.slack, stage.transcript
    stage.later("A week later", days=6, hours=4)
    stage.command("U0BOB", "declare EU customers get 500s at checkout again", "C0GENERAL")
    channel = slack.wait_for(lambda: next((c for c in slack.channels if c.name.startswith("inc-2-")), None))
    assert channel is not None
    stage.settle(lambda: any("Similar past incidents" in str(m.blocks) for m in slack.messages(channel.id)))
    reply = slack.wait_for(lambda: slack.response_posts()[1:])[0]
    print(f"  (only bob sees) Firebell: {transcript.plain(reply['text'])}")
    stage.command("U0BOB", "search drained pool", channel.id)
    stage.command("U0BOB", "INC-2 problem link PRB-1", "C0GENERAL")
    stage.settle(lambda: any("linked INC-2 to" in m.text for m in slack.messages(channel.id)))
    stage.command("U0BOB", "problems", "C0GENERAL")


def a_private_one(stage: Stage) -> None:
    """A security incident: its channel is private, and only its members see it."""
    slack = stage.slack
    stage.later("That afternoon", hours=2)
    stage.command("U0ALICE", "declare --private sev1 A signing key was pushed to a public repository", "C0GENERAL")
    channel = slack.wait_for(lambda: next((c for c in slack.channels if c.name.startswith("inc-3-")), None))
    assert channel is not None
    stage.settle(lambda: slack.channel(channel.id).pins and "private incident" in slack.messages(BROADCAST)[-1].text)
    print(f"  Slack: #{channel.name} is private; only alice is in it. The broadcast channel heard only who "
          "commands it.")
    stage.command("U0BOB", "list", "C0GENERAL")  # bob is not in it: he sees INC-2 only
    stage.command("U0BOB", "INC-3 timeline", "C0GENERAL")


def the_month(stage: Stage) -> None:
    """The support lead looks at how the month went: the figures at once, the chart by DM."""
    slack = stage.slack
    stage.later("Later that day", hours=1)
    stage.command("U0ALICE", "report 30d", "C0GENERAL")
    charts = slack.wait_for(lambda: [f for f in slack.files if f.filetype == "png"], timeout=60)
    print(f"  Slack: alice gets a DM with {charts[0].filename} ({charts[0].title}): weekly MTTA/MTTR and SLA "
          "compliance; `firebell report --chart month.png` draws the same")


SCENES: list[Callable[[Stage], None]] = [who_is_on_call, declare_incident, acknowledge_the_page, run_the_incident,
                                         resolve_it, look_back, learn_from_it, the_next_time, a_private_one, the_month]


def play(stage: Stage, scenes: list[Callable[[Stage], None]] | None = None) -> None:
    for scene in SCENES if scenes is None else scenes:
        scene(stage)
