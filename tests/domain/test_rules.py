from datetime import timedelta

import pytest

from bot.domain.errors import InvalidInput, UsageError
from bot.domain.incident import Severity
from bot.domain.naming import MAX_CHANNEL_NAME, channel_name
from bot.domain.rules import MAX_TITLE, clean_title, parse_severity
from bot.durations import format_duration, parse_duration
from bot.slack.command_parser import Acknowledge, Declare, Help, ListOpen, parse_command
from bot.slack.text import date_token, escape


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90s", timedelta(seconds=90)), ("5m", timedelta(minutes=5)), ("4h", timedelta(hours=4)),
     ("3d", timedelta(days=3)), ("PT5M", timedelta(minutes=5)), ("P1DT2H", timedelta(days=1, hours=2))],
)
def test_durations_read_as_written(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["5x", "", "m5", "-5m", "0s", "PT", "P"])
def test_bad_durations_say_how_to_write_one(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_durations_format_back_in_the_largest_exact_unit():
    assert [format_duration(parse_duration(x)) for x in ("90s", "120s", "PT1H", "72h")] == ["90s", "2m", "1h", "3d"]


def test_channel_names_follow_slack_rules():
    assert channel_name("inc", 12, "Checkout returns 500s!") == "inc-12-checkout-returns-500s"
    assert channel_name("inc", 3, "Ünïcode & émoji 🔥 DB") == "inc-3-unicode-emoji-db"
    assert channel_name("inc", 3, "🔥🔥") == "inc-3"
    assert channel_name("inc", 3, "db down", attempt=2) == "inc-3-db-down-2"
    long = channel_name("inc", 123456, "word " * 100, attempt=17)
    assert len(long) <= MAX_CHANNEL_NAME and long.endswith("-17") and "--" not in long


def test_title_rules():
    assert clean_title("  DB   down \n now ") == "DB down now"
    with pytest.raises(InvalidInput, match="needs a title"):
        clean_title("   ")
    with pytest.raises(InvalidInput, match="5,000 characters") as info:
        clean_title("x" * 5000)
    assert info.value.field == "title"
    assert clean_title("x" * MAX_TITLE) == "x" * MAX_TITLE


def test_severity_spellings():
    assert parse_severity("SEV2") is Severity.SEV2
    assert parse_severity("1") is Severity.SEV1
    with pytest.raises(InvalidInput, match="sev1, sev2, sev3 or sev4"):
        parse_severity("sev9")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Help()),
        ("help", Help()),
        ("list", ListOpen()),
        ("declare", Declare(Severity.SEV3, "")),
        ("declare sev1", Declare(Severity.SEV1, "")),
        ("DECLARE SEV2 Payments   are down", Declare(Severity.SEV2, "Payments are down")),
        ("declare Severity of the bug", Declare(Severity.SEV3, "Severity of the bug")),
        ("declare --private sev1 Leaked keys", Declare(Severity.SEV1, "Leaked keys", private=True)),
        ("declare sev2 --private Leaked keys", Declare(Severity.SEV2, "Leaked keys", private=True)),
        ("declare —private", Declare(Severity.SEV3, "", private=True)),  # a client's smart dash
        ("declare Is --private set?", Declare(Severity.SEV3, "Is --private set?")),  # only before the title
        ("ack", Acknowledge(None)),
        ("INC-7 ack", Acknowledge(7)),
    ],
)
def test_command_parser(text, command):
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "message"),
    [("frobnicate", "not an incident command"), ("declare sev9 DB down", "not a severity"),
     ("declare sevv DB", "not a severity"), ("INC-3", "What should happen"), ("ack now", "takes nothing more"),
     ("INC-2 list", "does not take an incident number"), ("declare --privat Keys", "it knows `--private`"),
     ("status resolved", "use `/incident resolve`"), ("INC-4 status Resolved fixed", "use `/incident resolve`")],
)
def test_command_parser_explains_mistakes(text, message):
    with pytest.raises(UsageError, match=message):
        parse_command(text)


def test_escape_neutralises_mentions_and_links():
    assert escape("<!channel> & <@U123|bob>") == "&lt;!channel&gt; &amp; &lt;@U123|bob&gt;"


def test_date_token_lets_slack_localise():
    from datetime import UTC, datetime

    token = date_token(datetime(2026, 11, 24, 13, 5, tzinfo=UTC))
    assert token == "<!date^1795525500^{date_short_pretty} at {time}|2026-11-24 13:05 UTC>"
