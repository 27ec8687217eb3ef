"""The sentence that tells a reader what their cadences mean."""

from __future__ import annotations

from datetime import time

from subscribers.cadence_sentence import offered_phrase, what_they_get
from subscribers.models import Cadence

SEVEN = time(7, 0)


def test_each_topic_says_how_often_in_the_readers_order() -> None:
    chosen = [("Border Enforcement", Cadence.EACH), ("Asylum", Cadence.DAILY)]
    assert what_they_get(chosen, SEVEN) == (
        "Border Enforcement: each story as it is published; Asylum: a daily digest at 7:00"
    )


def test_topics_sharing_a_cadence_are_named_together() -> None:
    chosen = [
        ("Asylum", Cadence.DAILY),
        ("Border Enforcement", Cadence.WEEKLY),
        ("Refugees", Cadence.DAILY),
    ]
    assert what_they_get(chosen, time(18, 30)) == (
        "Asylum, Refugees: a daily digest at 18:30; Border Enforcement: a weekly digest"
    )


def test_all_weekly_or_every_topic_says_nothing_new() -> None:
    assert what_they_get([("Asylum", Cadence.WEEKLY), ("Border", Cadence.WEEKLY)], SEVEN) == ""
    assert what_they_get([], SEVEN) == ""


def test_the_signup_text_promises_only_what_is_offered() -> None:
    assert offered_phrase([Cadence.WEEKLY]) == "once a week"
    assert offered_phrase([Cadence.WEEKLY, Cadence.EACH]) == (
        "once a week, or each as it is published"
    )
    assert offered_phrase(list(Cadence)) == ("once a week, once a day, or each as it is published")
