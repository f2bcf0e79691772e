"""Typed text into search terms, and the similar-incident verdict: pure functions."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.search import (
    MAX_QUERY_TERMS,
    MAX_SIMILAR_TERMS,
    SIMILAR_THRESHOLD,
    Candidate,
    Term,
    choose_similar,
    coverage,
    deciding_terms,
    document_frequency_cap,
    query_terms,
    similar_terms,
    weights,
    words,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_words_are_runs_of_letters_and_digits_and_nothing_else_is_syntax():
    assert words('"Checkout" OR NEAR(api, 5) * -deploy: v2.1 ‘quoted’ 🔥fire') == [
        "checkout", "or", "near", "api", "5", "deploy", "v2", "1", "quoted", "fire"]
    assert words("'; DROP TABLE incidents; --") == ["drop", "table", "incidents"]
    assert words("Café e\u0301 東京サーバー x²") == ["café", "e\u0301", "東京サーバー", "x²"]
    assert words("\u0301 \x00 \ud800 🔥 --- ") == []


def test_query_terms_drop_stop_words_and_repeats_unless_nothing_would_be_left():
    assert query_terms("The checkout is DOWN and the checkout is slow") == ("checkout", "down", "slow")
    assert query_terms("to be or not to be") == ("not",)
    assert query_terms("the and or") == ("the", "and", "or")
    assert query_terms('"" * - : ()') == ()


def test_a_pasted_paragraph_is_cut_to_its_first_distinct_words():
    terms = query_terms(" ".join(f"word{n}" for n in range(500)) + " " + "x" * 2000)
    assert terms == tuple(f"word{n}" for n in range(MAX_QUERY_TERMS))


def test_similar_terms_put_title_words_first_and_leave_out_stop_words_and_single_letters():
    terms = similar_terms("Checkout API returning 502s", "The checkout API of region a is returning errors")
    assert terms == (Term("checkout", True), Term("api", True), Term("returning", True), Term("502s", True),
                     Term("region", False), Term("errors", False))
    assert len(similar_terms(" ".join(f"w{n}" for n in range(40)), "")) == MAX_SIMILAR_TERMS


def test_rare_words_weigh_more_and_title_words_double():
    terms = (Term("checkout", True), Term("error", False), Term("ghost", False))
    result = weights(terms, {"checkout": 10, "error": 5000, "ghost": 0}, total=100_000)
    assert result == {"checkout": 2 * math.log(1 + 10_000), "error": math.log(1 + 20)}  # "ghost" matches nothing


def test_counting_stops_at_one_incident_in_twenty_but_never_below_a_hundred():
    assert [document_frequency_cap(n) for n in (0, 2, 1999, 2000, 100_000)] == [100, 100, 100, 100, 5000]


def candidate(incident_id: int, *shared: str, days: int = 0) -> Candidate:
    return Candidate(incident_id, T0 + timedelta(days=days), frozenset(shared))


def test_similar_needs_enough_weight_and_two_shared_words():
    term_weights = {"checkout": 8.0, "502": 6.0, "api": 1.0, "errors": 1.0}
    verdicts = choose_similar(term_weights, [
        candidate(1, "checkout", "502"),  # 14/16
        candidate(2, "api", "errors"),  # 2/16: generic words only
        candidate(3, "checkout"),  # 8/16 but one word
        candidate(4, "checkout", "api"),  # 9/16
        candidate(5, "checkout", "502", "api", "errors", "unrelated"),
    ])
    assert [(v.incident_id, v.score) for v in verdicts] == [(5, 1.0), (1, 14 / 16), (4, 9 / 16)]
    assert verdicts[0].shared == {"checkout", "502", "api", "errors"}


def test_a_one_word_incident_needs_only_that_word_and_equals_come_newest_first():
    verdicts = choose_similar({"outage": 3.0}, [candidate(1, "outage", days=1), candidate(2, "outage", days=5),
                                                candidate(3, "outage", days=3), candidate(4)], limit=2)
    assert [v.incident_id for v in verdicts] == [2, 3]
    assert choose_similar({}, [candidate(1, "x")]) == []


weight_maps = st.dictionaries(st.text(alphabet="abcdefgh", min_size=1, max_size=3),
                              st.floats(min_value=0.01, max_value=50), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(term_weights=weight_maps, data=st.data())
def test_property_every_similar_incident_holds_a_deciding_term(term_weights, data):
    """So only incidents holding one of them need to be fetched from the database."""
    deciding = set(deciding_terms(term_weights))
    shared = data.draw(st.sets(st.sampled_from(sorted(term_weights))))
    if coverage(term_weights, shared) >= SIMILAR_THRESHOLD:
        assert shared & deciding


@settings(max_examples=200, deadline=None)
@given(term_weights=weight_maps, data=st.data())
def test_property_verdicts_are_ordered_bounded_and_above_the_threshold(term_weights, data):
    pool = sorted(term_weights)
    candidates = [candidate(n, *data.draw(st.sets(st.sampled_from(pool))), days=data.draw(st.integers(0, 30)))
                  for n in range(data.draw(st.integers(0, 8)))]
    verdicts = choose_similar(term_weights, candidates)
    assert len(verdicts) <= 3
    assert all(SIMILAR_THRESHOLD <= v.score <= 1.0 + 1e-9 and len(v.shared) >= min(2, len(term_weights))
               for v in verdicts)
    assert [v.score for v in verdicts] == sorted((v.score for v in verdicts), reverse=True)
