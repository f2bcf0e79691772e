"""On-call renderers are pure: who is on call, overrides and the handoff notice, checked on `to_dict()`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.domain.oncall import Override, Shift, Source, TierOnCall
from bot.slack import oncall as rota
from tests.slack.test_render import T0, incident

LATER = T0 + timedelta(days=6)


def dicts(blocks) -> list[dict]:
    return [b.to_dict() for b in blocks]


def test_the_view_says_who_until_when_who_next_and_marks_overrides_and_gaps():
    states = [
        TierOnCall("L1", Shift(T0, LATER, "U01", Source.OVERRIDE, override=3),
                   Shift(LATER, LATER + timedelta(days=7), "U02", Source.LAYER, layer=1), (), True),
        TierOnCall("L2", Shift(T0, LATER, None, Source.GAP), None, ("U04", "S0DBAS"), False),
        TierOnCall("L3", Shift(T0, LATER, None, Source.GAP), Shift(LATER, LATER, "U05", Source.LAYER, layer=2),
                   ("U06",), True),
    ]
    text, blocks = rota.oncall_view(states)
    body = json.dumps(dicts(blocks), ensure_ascii=False)
    assert text == "Who is on call"
    assert (f"*L1*: <@U01> (🔁 override #3) until <!date^{int(LATER.timestamp())}^" in body
            and "next <@U02> (layer 1)" in body)
    assert "*L2*: no schedule; every member is paged: <@U04>, <!subteam^S0DBAS>" in body
    assert "*L3*: nobody (a gap in the schedule) until" in body and "also paged, always: <@U06>" in body


def test_overrides_list_and_their_answers():
    override = Override(2, "L1", "U01", T0, LATER, created_by="U09")
    _, blocks = rota.overrides_view([override])
    body = json.dumps(dicts(blocks))
    assert "*#2* L1: <@U01> from <!date^" in body and "(by <@U09>)" in body
    _, empty = rota.overrides_view([])
    assert "No overrides to come" in json.dumps(dicts(empty))
    assert "`/incident oncall cancel 2`" in rota.override_added(override, "Europe/Berlin")


def test_the_handoff_notice_lists_open_incidents_with_their_clocks_and_escapes_titles():
    off = Shift(T0 - timedelta(days=1), T0, "U01", Source.LAYER, layer=1)
    on = Shift(T0, LATER, "U02", Source.LAYER, layer=1)
    text, blocks = rota.handoff_message("L1", off, on, T0, [incident()], T0 + timedelta(seconds=2), late_after=5)
    body = json.dumps(dicts(blocks), ensure_ascii=False)
    assert text == "🔄 L1 handoff: <@U01> (layer 1) → <@U02> (layer 1) · 1 open incident(s)"
    assert "INC-7" in body and "&lt;!channel&gt;" in body and "<!channel>" not in body
    assert "late" not in body
    _, late = rota.handoff_message("L1", off, on, T0, [], T0 + timedelta(hours=2), late_after=5)
    late_body = json.dumps(dicts(late))
    assert "Sent 2h late" in late_body and "No open incidents." in late_body


def test_a_handoff_into_a_gap_names_nobody():
    off = Shift(T0 - timedelta(days=1), T0, "U01", Source.LAYER, layer=1)
    gap = Shift(T0, LATER, None, Source.GAP)
    text, _ = rota.handoff_message("L1", off, gap, T0, [], T0, late_after=5)
    assert text.startswith("🔄 L1 handoff: <@U01> (layer 1) → nobody (a gap in the schedule)")


def test_many_incidents_stay_within_slack_s_limits():
    many = [incident(number=n) for n in range(1, 400)]
    off = Shift(T0 - timedelta(days=1), T0, "U01", Source.LAYER, layer=1)
    on = Shift(T0, LATER, "U02", Source.LAYER, layer=1)
    _, blocks = rota.handoff_message("L1", off, on, datetime(2026, 11, 24, tzinfo=UTC), many, T0, late_after=5)
    assert len(blocks) <= 50 and all(len(b.to_dict().get("text", {}).get("text", "")) <= 3000 for b in blocks)
