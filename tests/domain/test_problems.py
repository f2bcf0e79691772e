"""Problem records' rules: references, statuses, who may change one."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidInput, UsageError
from bot.domain.problems import (
    InvalidProblemChange,
    NotAllowedOnProblem,
    ProblemStatus,
    change_status,
    check_may_change,
    clean_text,
    clean_title,
    parse_ref,
    parse_status,
)


@pytest.mark.parametrize(("typed", "number"), [("PRB-3", 3), ("prb-12", 12), ("PRB3", 3), (" 7 ", 7)])
def test_problem_references(typed, number):
    assert parse_ref(typed) == number


@pytest.mark.parametrize("typed", ["PRB-", "PRB-0", "INC-3", "PRB-3x", "", "prb--3", "PRB-99999999999"])
def test_what_is_not_a_problem_reference_says_how_to_write_one(typed):
    with pytest.raises(UsageError, match="PRB-3"):
        parse_ref(typed)


def test_statuses_move_forward_and_a_resolved_problem_can_come_back():
    assert change_status(ProblemStatus.OPEN, ProblemStatus.KNOWN_ERROR, "PRB-1") is ProblemStatus.KNOWN_ERROR
    assert change_status(ProblemStatus.KNOWN_ERROR, ProblemStatus.RESOLVED, "PRB-1") is ProblemStatus.RESOLVED
    assert change_status(ProblemStatus.RESOLVED, ProblemStatus.OPEN, "PRB-1") is ProblemStatus.OPEN
    with pytest.raises(InvalidProblemChange, match="PRB-1 is resolved; it can go to: open"):
        change_status(ProblemStatus.RESOLVED, ProblemStatus.KNOWN_ERROR, "PRB-1")
    with pytest.raises(InvalidProblemChange, match="already open"):
        change_status(ProblemStatus.OPEN, ProblemStatus.OPEN, "PRB-1")


def test_status_words_are_forgiving_about_spelling_but_not_about_meaning():
    assert [parse_status(t) for t in ("known-error", "Known error", "KNOWN_ERROR", "resolved")] == [
        ProblemStatus.KNOWN_ERROR] * 3 + [ProblemStatus.RESOLVED]
    with pytest.raises(InvalidInput, match="open, known-error, resolved"):
        parse_status("closed")


def test_admins_and_the_commanders_of_its_incidents_may_change_a_problem():
    check_may_change("U1", problem_ref="PRB-1", commanders={"U1", "U2"}, admins=[])
    check_may_change("U9", problem_ref="PRB-1", commanders={"U1"}, admins=["U9"])
    with pytest.raises(NotAllowedOnProblem, match=r"Only the commanders of its incidents \(<@U1>\) and Firebell "
                                                  r"admins \(<@U9>\) can change PRB-1"):
        check_may_change("U5", problem_ref="PRB-1", commanders={"U1"}, admins=["U9"])


def test_titles_and_texts_are_cleaned_and_bounded():
    assert clean_title("  Pool   exhaustion ") == "Pool exhaustion"
    for bad in ("", "x" * 151):
        with pytest.raises(InvalidInput):
            clean_title(bad)
    assert clean_text(" restart the pods ", "workaround") == "restart the pods"
    with pytest.raises(InvalidInput, match="workaround"):
        clean_text("  ", "workaround")
