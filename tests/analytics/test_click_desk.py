"""The click desk's token memory: signed tokens read once and kept; forgeries never kept."""

from __future__ import annotations

from newsletter.clicktokens import Click, make_click_token, make_reader_mark
from newsletter.config.schema import AnalyticsSettings
from newsletter.pipeline.clicks import TOKENS_KEPT, ClickDesk
from newsletter.runtime import Runtime
from tests import factories


def test_a_signed_token_is_read_and_then_kept(runtime: Runtime) -> None:
    desk = ClickDesk(runtime)
    token = make_click_token(runtime.signing_key, Click(7, 2, 3))
    assert desk.read(token) == Click(7, 2, 3)
    assert desk.read(token) == Click(7, 2, 3)
    assert len(desk._tokens) == 1


def test_forged_tokens_are_refused_and_not_kept(runtime: Runtime) -> None:
    desk = ClickDesk(runtime)
    token = make_click_token(runtime.signing_key, Click(7, 2, 3))
    forged = make_click_token("not-our-key-" * 4, Click(7, 2, 3))
    for bad in (forged, factories.altered(token), "", "!!", "A" * 500):
        assert desk.read(bad) is None
    assert desk._tokens == {}


def test_the_kept_tokens_are_bounded(runtime: Runtime) -> None:
    desk = ClickDesk(runtime)
    for position in range(TOKENS_KEPT + 5):
        token = make_click_token(runtime.signing_key, Click(1, position, 1))
        assert desk.read(token) == Click(1, position, 1)
    assert 0 < len(desk._tokens) <= TOKENS_KEPT


def test_a_kept_link_still_checks_each_readers_mark(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"analytics": AnalyticsSettings(per_subscriber=True)}
    )
    desk = ClickDesk(runtime)
    link = make_click_token(runtime.signing_key, Click(7, 2, 3))
    mark = make_reader_mark(runtime.signing_key, 7, 41)
    assert desk.read(f"{link}.{mark}") == Click(7, 2, 3, 41)
    # The link is now kept; a mark made for another issue still names nobody.
    stolen = make_reader_mark(runtime.signing_key, 8, 41)
    assert desk.read(f"{link}.{stolen}") == Click(7, 2, 3, None)
