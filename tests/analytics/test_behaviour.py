"""Judging clients by behaviour: kept counts give the verdicts a full recount would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.analytics.behaviour import Behaviour, Hit
from newsletter.analytics.machines import BURST, HUMAN, SCANNER, TRAP

AT = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = timedelta(seconds=3)
TRAP_POSITION = 99


def _recounted(clicks: list[tuple[int, int, str]], burst_links: int) -> list[str]:
    """The rule said plainly: after each hit, recount the client's window and mark it all."""
    hits: list[Hit] = []
    trapped = False
    for millis, position, verdict in clicks:
        hit = Hit(1, position, 1, AT + timedelta(milliseconds=millis), verdict)
        hits.append(hit)
        trapped = trapped or position == TRAP_POSITION
        window = [h for h in hits if h.at >= hit.at - WINDOW]
        machine = (
            TRAP if trapped else BURST if len({h.position for h in window}) >= burst_links else None
        )
        for h in window if machine else ():
            if h.verdict == HUMAN or (machine == TRAP and h.verdict == BURST):
                h.verdict = machine
    return [h.verdict for h in hits]


def _judged(clicks: list[tuple[int, int, str]], burst_links: int) -> list[str]:
    behaviour = Behaviour(burst_links, WINDOW)
    client = behaviour.client("192.0.2.1", "Mozilla/5.0")
    hits = []
    for millis, position, verdict in clicks:
        hit = Hit(1, position, 1, AT + timedelta(milliseconds=millis), verdict)
        behaviour.judge(client, hit, trap=position == TRAP_POSITION)
        hits.append(hit)
    return [h.verdict for h in hits]


clicks = st.lists(
    st.tuples(
        st.integers(0, 2_000),
        st.sampled_from([0, 1, 2, 3, 4, TRAP_POSITION]),
        st.sampled_from([HUMAN, HUMAN, HUMAN, SCANNER]),
    ),
    max_size=60,
).map(
    lambda raw: [(sum(gap for gap, _, _ in raw[: n + 1]), p, v) for n, (_, p, v) in enumerate(raw)]
)


@settings(max_examples=300, deadline=None)
@given(clicks, st.integers(2, 5))
def test_verdicts_match_a_full_recount_after_every_hit(
    sequence: list[tuple[int, int, str]], burst_links: int
) -> None:
    assert _judged(sequence, burst_links) == _recounted(sequence, burst_links)


def test_a_burst_then_a_quiet_window_is_a_reader_again() -> None:
    sequence = [(0, 0, HUMAN), (100, 1, HUMAN), (200, 2, HUMAN), (300, 3, HUMAN), (5_000, 0, HUMAN)]
    assert _judged(sequence, 4) == [BURST, BURST, BURST, BURST, HUMAN]


def test_a_scanner_keeps_its_name_and_a_trap_outranks_a_burst() -> None:
    sequence = [
        (0, 0, SCANNER),
        (10, 1, HUMAN),
        (20, 2, HUMAN),
        (30, 3, HUMAN),
        (40, TRAP_POSITION, HUMAN),
    ]
    assert _judged(sequence, 4) == [SCANNER, TRAP, TRAP, TRAP, TRAP]


def test_one_client_clicking_thousands_of_times_is_judged_throughout() -> None:
    sequence = [(n, n % 5, HUMAN) for n in range(5_000)]
    verdicts = _judged(sequence, 4)
    # the first three were readers' until the fourth link came within the window
    assert set(verdicts) == {BURST}
