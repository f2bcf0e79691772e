"""The log setup: quiet libraries, one JSON object per line, who a line is about, nothing of a request's body."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.observability import logs

SECRET = "logs-test-secret"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    logs.remove()
    root.setLevel(level)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)


def lines(stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line]


def test_json_lines_carry_time_level_logger_message_and_who(restore_root):
    out = io.StringIO()
    logs.configure("INFO", "json", stream=out)
    logging.getLogger("bot.services.declare").info("plain line")
    with logs.context(request_id="req1", team="T0ONE"):
        logs.incident_event(logs.Event.DECLARED, "INC-7", "T0ONE", "sev2 by U0ALICE")
        logging.getLogger("bot.delivery").warning("inside")
    records = [json.loads(line) for line in lines(out)]
    assert [r["message"] for r in records] == ["plain line", "INC-7 (T0ONE) declared: sev2 by U0ALICE", "inside"]
    assert set(records[0]) == {"time", "level", "logger", "message"}
    assert records[0]["level"] == "INFO" and records[0]["logger"] == "bot.services.declare"
    assert records[0]["time"].endswith("Z") and "T" in records[0]["time"]
    assert records[1] | {"time": None} == {"time": None, "level": "INFO", "logger": "firebell.incident",
                                           "message": "INC-7 (T0ONE) declared: sev2 by U0ALICE",
                                           "incident": "INC-7", "team": "T0ONE", "request_id": "req1",
                                           "event": "declared"}
    assert records[2]["request_id"] == "req1" and records[2]["team"] == "T0ONE" and "incident" not in records[2]


def test_a_traceback_stays_inside_its_json_object(restore_root):
    out = io.StringIO()
    logs.configure("INFO", "json", stream=out)
    try:
        {}["missing"]
    except KeyError as exc:
        told = logs.unexpected_error(logging.getLogger("bot.app"), exc, "/incident declare")
    [line] = lines(out)
    record = json.loads(line)
    ref = record["ref"]
    assert told == f"Something went wrong (ref {ref}); nothing was changed."
    assert len(ref) == 6 and int(ref, 16) >= 0
    assert ref in record["message"] and "/incident declare" in record["message"]
    assert record["level"] == "ERROR"
    assert "Traceback" in record["error"] and "KeyError: 'missing'" in record["error"]


def test_text_lines_name_the_context_in_brackets(restore_root):
    out = io.StringIO()
    logs.configure("info", "text", stream=out)
    with logs.context(request_id="abcd1234"):
        logging.getLogger("bot.app").info("answered")
        logs.incident_event(logs.Event.RESOLVED, "INC-3", "T0TWO")
    first, second = lines(out)
    assert first.endswith("INFO bot.app: answered [request_id=abcd1234]")
    assert second.endswith("INFO firebell.incident: INC-3 (T0TWO) resolved")  # the line itself names them


def test_context_is_restored_after_the_block(restore_root):
    out = io.StringIO()
    logs.configure("INFO", "json", stream=out)
    with logs.context(incident="INC-1", team="T0"):
        with logs.context(incident="INC-2"):
            logging.getLogger("bot").info("inner")
        logging.getLogger("bot").info("outer")
    logging.getLogger("bot").info("after")
    inner, outer, after = (json.loads(line) for line in lines(out))
    assert (inner["incident"], inner["team"]) == ("INC-2", "T0")
    assert (outer["incident"], outer["team"]) == ("INC-1", "T0")
    assert "incident" not in after and "team" not in after


def test_level_hides_firebells_own_info_when_asked(restore_root):
    out = io.StringIO()
    logs.configure("WARNING", "text", stream=out)
    logs.incident_event(logs.Event.PAGED, "INC-1", "T0")
    logging.getLogger("bot.delivery").warning("shown")
    assert len(lines(out)) == 1 and "shown" in lines(out)[0]


def test_bad_level_or_format_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="'LOUD' is not a log level; write one of DEBUG, INFO, WARNING"):
        logs.parse_level("LOUD")
    with pytest.raises(ValueError, match="'xml' is not a log format; write text or json"):
        logs.parse_format("xml")
    assert logs.parse_level("warn") == logging.WARNING


def test_libraries_are_quiet_at_info_but_speak_at_warning(restore_root):
    out = io.StringIO()
    logs.configure("INFO", "text", stream=out)
    chatty = logging.getLogger("waitress.queue")
    chatty.setLevel(logging.INFO)  # a library that sets its own level (Bolt does) still stays quiet
    chatty.info("per-request chatter")
    logging.getLogger("urllib3.connectionpool").info("Starting new HTTP connection")
    logging.getLogger("waitress").warning("Task queue depth is 5")
    assert len(lines(out)) == 1 and "Task queue depth is 5" in lines(out)[0]


def test_debug_lets_libraries_speak(restore_root):
    out = io.StringIO()
    logs.configure("DEBUG", "text", stream=out)
    logging.getLogger("urllib3.connectionpool").debug("Starting new HTTP connection")
    assert "Starting new HTTP connection" in out.getvalue()


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_a_refused_signature_never_logs_the_body(restore_root, level):
    """Bolt logs a bad signature together with the whole body; that line never reaches the log."""
    out = io.StringIO()
    logs.configure(level, "json", stream=out)
    app = App(signing_secret=SECRET, token="xoxb-unused", token_verification_enabled=False,
              logger=logging.getLogger("slack_bolt.App"))
    body = "command=%2Fincident&text=declare+sev1+the+secret+merger+leaked&user_id=U0ALICE&team_id=T0"
    stamp = str(int(time.time()))
    headers = {"x-slack-request-timestamp": [stamp],
               "x-slack-signature": [SignatureVerifier("another-secret").generate_signature(timestamp=stamp,
                                                                                            body=body)]}
    response = app.dispatch(BoltRequest(body=body, headers=headers))
    assert response.status == 401
    logs.refused_signature(logging.getLogger("bot.app"), path="/slack/events", remote="10.0.0.7",
                           size=len(body), reason="the signature does not match")
    text = out.getvalue()
    assert "secret merger" not in text and "secret+merger" not in text
    refused = [json.loads(line) for line in lines(out) if "refused" in line]
    assert refused[-1]["message"] == (f"refused a request to /slack/events from 10.0.0.7 ({len(body)} bytes): "
                                      "the signature does not match")


def test_database_url_is_logged_without_its_password():
    assert logs.safe_database_url("postgresql://firebell:s3cret@db:5432/firebell") == \
        "postgresql://firebell:***@db:5432/firebell"
    assert logs.safe_database_url("sqlite:///./firebell.db") == "sqlite:///./firebell.db"
    assert "s3cret" not in logs.safe_database_url("not a url s3cret")


def test_startup_lines_say_what_was_loaded_and_warn_of_an_empty_policy(restore_root):
    out = io.StringIO()
    logs.configure("INFO", "text", stream=out)
    log = logging.getLogger("firebell")
    logs.log_startup(log, policy_file=None, tiers=0, broadcast_channel=None,
                     database_url="postgresql://u:pw@h/db")
    written = lines(out)
    assert [line.split(" ", 2)[1] for line in written] == ["WARNING", "WARNING", "WARNING", "INFO"]
    assert "using the built-in defaults" in written[0]
    assert "nobody is paged" in written[1] and "not announced" in written[2]
    assert written[3].endswith("database: postgresql://u:***@h/db")
    out.truncate(0), out.seek(0)
    logs.log_startup(log, policy_file="/etc/firebell.yml", tiers=2, broadcast_channel="C0INC",
                     database_url="sqlite:///x.db")
    assert [line.split(": ", 1)[1] for line in lines(out)] == [
        "policy loaded from /etc/firebell.yml (2 tier(s), broadcast channel C0INC)", "database: sqlite:///x.db"]


def test_configuring_twice_keeps_one_handler(restore_root):
    first, second = io.StringIO(), io.StringIO()
    logs.configure("INFO", "text", stream=first)
    logs.configure("INFO", "text", stream=second)
    logging.getLogger("bot").info("once")
    assert first.getvalue() == "" and second.getvalue().count("once") == 1
