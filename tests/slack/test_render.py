"""Renderers are pure: domain values in, Block Kit out, checked on `to_dict()` as Slack would receive it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.domain.incident import Incident, Severity, Status
from bot.domain.sla import ClockRun, SlaClock
from bot.slack import render

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def incident(number: int = 7, title: str = "Checkout <!channel> & 500s", **fields) -> Incident:
    return Incident(id=number, team_id="T0", number=number, title=title, description=fields.pop("description", ""),
                    severity=fields.pop("severity", Severity.SEV1), status=fields.pop("status", Status.DECLARED),
                    declared_by="U0ALICE", commander="U0ALICE", declared_at=T0, channel_id="C0INC7", **fields)


def dicts(blocks) -> list[dict]:
    return [b.to_dict() for b in blocks]


def test_the_card_escapes_what_people_typed_and_shows_times_as_date_tokens():
    card = dicts(render.incident_card(incident(description="<@U0BOB> look"), T0))
    text = json.dumps(card)
    assert card[0] == {"type": "header", "block_id": "card_title",
                       "text": {"type": "plain_text", "text": "INC-7: Checkout <!channel> & 500s", "emoji": True}}
    assert "&lt;@U0BOB&gt; look" in text and "<@U0BOB>" not in text  # a description cannot mention anyone
    assert f"<!date^{int(T0.timestamp())}^" in text
    assert [e["action_id"] for e in card[-2]["elements"]] == [
        "incident_acknowledge", "incident_post_update", "incident_page", "incident_resolve"]


def test_a_resolved_card_has_no_buttons_and_shows_each_clocks_verdict():
    clocks = (ClockRun(SlaClock.ACK, T0, timedelta(minutes=5), T0 + timedelta(minutes=5), T0 + timedelta(minutes=2)),
              ClockRun(SlaClock.RESOLVE, T0, timedelta(hours=1), T0 + timedelta(hours=1), T0 + timedelta(hours=2)))
    card = dicts(render.incident_card(incident(status=Status.RESOLVED, resolved_at=T0 + timedelta(hours=2),
                                               clocks=clocks), T0 + timedelta(hours=3)))
    assert all(b["type"] != "actions" for b in card)
    status = next(b for b in card if b.get("block_id") == "card_status")["text"]["text"]
    assert "✅ Time to acknowledge: met by 3m" in status and "🚨 Time to resolve: breached by 1h" in status


def test_a_long_list_stays_within_a_messages_fifty_blocks():
    many = [incident(number=n, title=f"Incident number {n} " + "x" * 120) for n in range(1, 1500)]
    blocks = dicts(render.incident_list(many))
    assert len(blocks) <= render.MAX_MESSAGE_BLOCKS
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert blocks[-1]["text"]["text"].startswith("…and more")


def test_the_app_home_is_within_a_views_hundred_blocks_and_lists_the_most_severe_first():
    from bot.domain.incident import PageView
    from bot.domain.kpi import build
    from bot.slack.home import home_view

    page = PageView(id=5, tier="L1", reason="", paged_at=T0, paged_by=None, status="active", notified=("U0ME",))
    many = [incident(number=n, severity=Severity.SEV1 if n == 3 else Severity.SEV3, pages=(page,)) for n in
            range(1, 300)]
    view = home_view(many, "U0ME", build([], T0 - timedelta(days=30), T0)).to_dict()
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert "Open incidents (299)" in text and "…and 259 more, less severe" in text
    assert "Waiting for you (299)" in text and "…and 289 more pages" in text
    first = next(b for b in view["blocks"] if b["type"] == "section" and "INC-" in b["text"]["text"]
                 and "accessory" not in b)
    assert first["text"]["text"].startswith("🔴 *INC-3* · SEV1")
    assert "No incidents were declared in the last 30 days." in text


def test_an_sla_reminder_names_who_acts_and_says_when_it_is_late():
    run = ClockRun(SlaClock.ACK, T0, timedelta(minutes=10), T0 + timedelta(minutes=10), None)
    text = render.sla_notice(incident().ref, SlaClock.ACK, 0.5, T0 + timedelta(minutes=5), run, ["U0CAROL"],
                             T0 + timedelta(minutes=9), late_after=timedelta(seconds=5))
    assert text.startswith("⏳ *INC-7*: 50% of the *time to acknowledge* (10m) has passed; 1m left")
    assert "<@U0CAROL>: acknowledge with `/incident ack`." in text
    assert "_Sent 4m late: Firebell was not running when it was due._" in text


def test_a_private_incidents_announcement_says_only_that_it_exists_and_who_commands_it():
    private = incident(title="Leaked signing keys", private=True, severity=Severity.SEV1)
    text, blocks = render.private_announcement_text(private), json.dumps(dicts(render.private_announcement(private)))
    for said in (text, blocks):
        assert "private incident" in said and "INC-7" in said and "<@U0ALICE> commands it" in said
        assert "Leaked" not in said and "C0INC7" not in said and "SEV1" not in said


def test_the_declare_form_has_a_private_checkbox_ticked_by_the_flag():
    from bot.slack import modals
    from bot.slack.ids import DeclareMetadata

    def box(**given) -> dict:
        view = modals.declare_modal(DeclareMetadata(origin="command"), **given).to_dict()
        return next(b for b in view["blocks"] if b["block_id"] == "private")

    assert box()["optional"] is True and box()["element"]["type"] == "checkboxes"
    assert "initial_options" not in box()["element"]
    assert [o["value"] for o in box(private=True)["element"]["initial_options"]] == ["private"]
