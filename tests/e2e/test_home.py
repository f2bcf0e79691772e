"""App Home as a dashboard: the viewer's pages with an Acknowledge button, the open incidents with their nearest
deadline, the last 30 days' figures and a Declare button; refreshed when opened and when incidents change."""

from __future__ import annotations

import json

import pytest

from bot.config import FirebellConfig
from tests.e2e.conftest import ALICE, BOB, BROADCAST, T0, FakeClock, Timed, declare_and_settle, start_timed, stop

ONE = "U0ONE"


@pytest.fixture
def timed(slack, database_url):
    slack.add_user(ONE, "one")
    config = FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST,
        "severities": {"sev1": {"ack": "5m", "update_every": "30m", "resolve": "4h", "page": "L1"}},
        "tiers": [{"name": "L1", "members": [ONE], "ack_timeout": "10m"}],
    })
    running = start_timed(slack, database_url, config, FakeClock(T0))
    yield running
    stop(running)


def open_home(timed: Timed, user: str) -> None:
    timed.driver.send_event({"type": "app_home_opened", "user": user, "tab": "home", "channel": f"D{user}"})


def home(timed: Timed, user: str, showing: str) -> tuple[str, str]:
    """(view id, its blocks as text) once the user's home tab shows ``showing``."""
    def shown():
        views = [v for v in timed.slack.views_of(user) if v.type == "home"]
        text = json.dumps(views[-1].blocks, ensure_ascii=False) if views else ""
        return (views[-1].id, text) if showing in text else None

    return timed.slack.wait_for(shown)


def test_the_dashboard_shows_the_viewers_page_the_open_incidents_and_the_figures(timed: Timed):
    channel = declare_and_settle(timed, "declare sev1 Payments <down>")
    timed.clock.advance(minutes=1)
    open_home(timed, ONE)
    _, text = home(timed, ONE, "Waiting for you (1)")
    assert "*L1* paged <!date^" in text and '"action_id": "page_acknowledge"' in text
    assert "Open incidents (1)" in text and "*INC-1* · SEV1 · Declared · Payments &lt;down&gt;" in text
    assert f"Commander <@{ALICE}> · <#{channel}> · time to acknowledge due <!date^{int(T0.timestamp()) + 300}^" in text
    assert "*Declared*\\n1 (1 still open)" in text and '"action_id": "home_declare"' in text
    open_home(timed, BOB)
    _, text = home(timed, BOB, "Waiting for you (0)")  # BOB was not paged
    assert "No page is waiting for you." in text and "*INC-1* · SEV1" in text


def test_acknowledging_from_the_home_tab_acknowledges_the_page_and_refreshes_the_tab(timed: Timed):
    declare_and_settle(timed, "declare sev1 Payments down")
    open_home(timed, ONE)
    view_id, _ = home(timed, ONE, "Waiting for you (1)")
    timed.driver.click_in_view(ONE, view_id=view_id, action_id="page_acknowledge")
    timed.slack.wait_for(lambda: timed.incidents()[0].pages[0].status == "acknowledged")
    _, text = home(timed, ONE, "Waiting for you (0)")
    assert "*INC-1* · SEV1 · Investigating" in text  # the ack moved the incident on, and the tab shows it


def test_a_change_refreshes_the_tab_of_everyone_who_opened_it(timed: Timed):
    open_home(timed, BOB)
    home(timed, BOB, "No open incidents.")
    channel = declare_and_settle(timed, "declare sev1 Payments down")
    home(timed, BOB, "Open incidents (1)")
    timed.driver.slash_command(ALICE, "sev 2", channel_id=channel)
    home(timed, BOB, "*INC-1* · SEV2")


def test_the_declare_button_opens_the_declare_form(timed: Timed):
    open_home(timed, ALICE)
    view_id, _ = home(timed, ALICE, "Declare incident")
    timed.driver.click_in_view(ALICE, view_id=view_id, action_id="home_declare")
    [form] = timed.slack.wait_for(lambda: timed.slack.open_views(ALICE))
    assert form.callback_id == "declare_incident_modal"
