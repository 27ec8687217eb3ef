"""GET /r/<token>: the stored target with its UTM parameters; forgeries go home; machines apart."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from newsletter.analytics.models import ClickCount
from newsletter.analytics.store import counted
from newsletter.clock import FixedClock
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from newsletter.web.clicks import ClickFastPath, Proxies, desk_of
from tests.analytics.issue import Mailed, mailed_issue

READER = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"}


@pytest.fixture
def clocked(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    return runtime


@pytest.fixture
def mailed(clocked: Runtime) -> Mailed:
    return mailed_issue(clocked)


@pytest.fixture
def client(clocked: Runtime) -> TestClient:
    return TestClient(create_app(clocked), follow_redirects=False)


def _counts(runtime: Runtime, client: TestClient, issue_id: int) -> dict[str, int]:
    desk_of(client.app).flusher.flush(everything=True)  # type: ignore[arg-type]
    with runtime.sessions() as session:
        return counted(session, issue_id)


def test_story_donate_and_archive_links_go_through_r_and_personal_links_do_not(
    mailed: Mailed,
) -> None:
    assert len(mailed.links["story"]) == 3
    assert len(mailed.links["donate"]) == 1
    assert len(mailed.links["archive"]) == 1
    assert "/unsubscribe" not in " ".join(mailed.targets.values())
    # The text part carries the same tracked story links; the trap is in the HTML only.
    assert all(link in mailed.text for link in mailed.links["story"])
    (trap,) = mailed.links["trap"]
    assert trap not in mailed.text
    tag = mailed.html[mailed.html.rindex("<a", 0, mailed.html.index(trap)) :]
    tag = tag[: tag.index(">")]
    assert 'aria-hidden="true"' in tag
    assert 'tabindex="-1"' in tag
    assert "display:none" in tag.replace(" ", "")


def test_a_story_link_redirects_to_the_story_with_utm_and_counts_one_human(
    clocked: Runtime, mailed: Mailed, client: TestClient
) -> None:
    link = mailed.links["story"][0]
    response = client.get(link, headers=READER)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location.netloc == "news.example.org"
    assert location.path.startswith("/story-")
    query = parse_qs(location.query)
    assert query["utm_source"] == ["newsletter"]
    assert query["utm_medium"] == ["email"]
    assert query["utm_campaign"][0].startswith("digest-")
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers.get_list("content-length") == ["0"]
    assert _counts(clocked, client, mailed.issue_id) == {"human": 1}
    with clocked.sessions() as session:
        row = session.scalars(select(ClickCount)).one()
    assert row.hour == clocked.clock.now().replace(minute=0, second=0)


@pytest.mark.parametrize("change", ["forged", "altered", "truncated", "scheme"])
def test_a_forged_or_altered_token_goes_home_and_counts_nothing(
    clocked: Runtime, mailed: Mailed, client: TestClient, change: str
) -> None:
    link = mailed.links["story"][0]
    base, token = link.rsplit("/", 1)
    swap = "A" if token[3] != "A" else "B"
    bad = {
        "forged": f"{base}/AAAAAAAAAAAAAAAAAA",
        "altered": f"{base}/{token[:3]}{swap}{token[4:]}",
        "truncated": f"{base}/{token[:-2]}",
        "scheme": f"{base}/{token}?next=https://evil.example/",
    }[change]
    response = client.get(bad, headers=READER)
    assert response.status_code == 302
    if change == "scheme":  # a query is no say on where it goes: the stored target wins
        assert response.headers["location"] == mailed.targets[link]
        return
    assert response.headers["location"] == "https://news.example.org/"
    assert _counts(clocked, client, mailed.issue_id) == {}


def test_other_methods_are_refused(mailed: Mailed, client: TestClient) -> None:
    response = client.post(mailed.links["story"][0])
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_head_and_prefetch_redirect_but_count_as_filtered(
    clocked: Runtime, mailed: Mailed, client: TestClient
) -> None:
    link = mailed.links["story"][0]
    assert client.head(link, headers=READER).status_code == 302
    assert client.get(link, headers={**READER, "Sec-Purpose": "prefetch"}).status_code == 302
    assert client.get(link, headers={**READER, "Purpose": "prefetch"}).status_code == 302
    assert _counts(clocked, client, mailed.issue_id) == {"prefetch": 3}


@pytest.mark.parametrize(
    "agent",
    ["Mozilla/5.0 (compatible; BingPreview/1.0b)", "python-requests/2.32", "", "Barracuda/7"],
)
def test_a_known_scanner_is_filtered(
    clocked: Runtime, mailed: Mailed, client: TestClient, agent: str
) -> None:
    response = client.get(mailed.links["donate"][0], headers={"User-Agent": agent})
    assert response.status_code == 302
    assert _counts(clocked, client, mailed.issue_id) == {"scanner": 1}


def test_many_links_at_once_from_one_client_are_a_burst(
    clocked: Runtime, mailed: Mailed, client: TestClient
) -> None:
    for link in [*mailed.links["story"], mailed.links["archive"][0]]:
        assert client.get(link, headers=READER).status_code == 302
    other = {"User-Agent": READER["User-Agent"] + " other"}
    assert client.get(mailed.links["donate"][0], headers=other).status_code == 302
    assert _counts(clocked, client, mailed.issue_id) == {"burst": 4, "human": 1}


def test_a_reader_opening_three_stories_in_tabs_is_a_reader(
    clocked: Runtime, mailed: Mailed, client: TestClient
) -> None:
    for link in mailed.links["story"]:
        assert client.get(link, headers=READER).status_code == 302
    assert _counts(clocked, client, mailed.issue_id) == {"human": 3}


def test_the_same_link_twice_is_no_burst(
    clocked: Runtime, mailed: Mailed, client: TestClient
) -> None:
    for _ in range(3):
        client.get(mailed.links["story"][0], headers=READER)
    assert _counts(clocked, client, mailed.issue_id) == {"human": 3}


def test_the_trap_link_marks_the_client_a_machine(
    clocked: Runtime, mailed: Mailed, client: TestClient
) -> None:
    assert client.get(mailed.links["story"][0], headers=READER).status_code == 302
    response = client.get(mailed.links["trap"][0], headers=READER)
    assert response.headers["location"] == "https://news.example.org/"
    assert client.get(mailed.links["story"][0], headers=READER).status_code == 302
    assert _counts(clocked, client, mailed.issue_id) == {"trap": 3}


def test_clicks_wait_for_the_burst_window_before_they_are_written(
    clocked: Runtime, mailed: Mailed, client: TestClient
) -> None:
    from datetime import timedelta

    client.get(mailed.links["story"][0], headers=READER)
    desk = desk_of(client.app)  # type: ignore[arg-type]
    assert desk.flusher.flush() == 0
    assert isinstance(clocked.clock, FixedClock)
    clocked.clock.advance(timedelta(seconds=clocked.settings.analytics.burst_seconds + 1))
    assert desk.flusher.flush() == 1


def test_with_the_database_down_a_known_link_still_redirects_and_the_click_waits(
    clocked: Runtime, mailed: Mailed, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    story, donate = mailed.links["story"][0], mailed.links["donate"][0]
    assert client.get(story, headers=READER).status_code == 302  # the link is now cached
    desk = desk_of(client.app)  # type: ignore[arg-type]
    working = clocked.sessions
    # Nothing listens on port 9: every connection is refused, as with a database that is down.
    down = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")
    clocked.sessions = sessionmaker(down)
    try:
        with caplog.at_level(logging.WARNING):
            assert client.get(story, headers=READER).headers["location"] == mailed.targets[story]
            # Not cached, not readable: the reader still lands, on the home page.
            other = {"User-Agent": "Mozilla/5.0 other reader"}
            response = client.get(donate, headers=other)
            assert response.headers["location"] == "https://news.example.org/"
            assert desk.flusher.flush(everything=True) == 0
        assert "click counts not written" in caplog.text
        assert len(desk.queue) == 3
    finally:
        clocked.sessions = working
        down.dispose()
    assert _counts(clocked, client, mailed.issue_id) == {"human": 3}


@pytest.mark.parametrize("per_subscriber", [False, True])
def test_the_privacy_page_says_what_clicks_keep(runtime: Runtime, per_subscriber: bool) -> None:
    from newsletter.config.schema import AnalyticsSettings

    runtime.settings = runtime.settings.model_copy(
        update={"analytics": AnalyticsSettings(per_subscriber=per_subscriber, retention_days=45)}
    )
    page = TestClient(create_app(runtime)).get("/privacy").text
    assert "no tracking pixel" in page
    if per_subscriber:
        assert "We keep each click with your subscription for 45 days" in page
    else:
        assert "no click is kept with your name or address" in page


def _fronted(clocked: Runtime, allowed: str) -> TestClient:
    """The app as `newsletter serve` fronts it: clicks answered outside the proxy headers."""
    app = create_app(clocked)
    return TestClient(
        ClickFastPath(app, owner=app, proxies=Proxies(allowed)), follow_redirects=False
    )


def _fronted_counts(runtime: Runtime, client: TestClient, issue_id: int) -> dict[str, int]:
    desk_of(client.app.owner).flusher.flush(everything=True)  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        return counted(session, issue_id)


def _four_links(client: TestClient, mailed: Mailed, forwarded: list[str]) -> None:
    links = [*mailed.links["story"], mailed.links["archive"][0]]
    for link, chain in zip(links, forwarded, strict=True):
        headers = {**READER, "X-Forwarded-For": chain}
        assert client.get(link, headers=headers).status_code == 302


def test_behind_a_trusted_proxy_each_forwarded_client_is_its_own(
    clocked: Runtime, mailed: Mailed
) -> None:
    client = _fronted(clocked, "*")
    _four_links(client, mailed, ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"])
    assert _fronted_counts(clocked, client, mailed.issue_id) == {"human": 4}


def test_one_forwarded_client_opening_every_link_is_a_burst(
    clocked: Runtime, mailed: Mailed
) -> None:
    client = _fronted(clocked, "*")
    _four_links(client, mailed, ["198.51.100.1, 10.0.0.2"] * 4)
    assert _fronted_counts(clocked, client, mailed.issue_id) == {"burst": 4}


def test_a_forwarded_chain_from_an_untrusted_peer_is_not_believed(
    clocked: Runtime, mailed: Mailed
) -> None:
    # The test client's peer is not in 10.0.0.0/8: its X-Forwarded-For cannot split it in four.
    client = _fronted(clocked, "10.0.0.0/8")
    _four_links(client, mailed, ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"])
    assert _fronted_counts(clocked, client, mailed.issue_id) == {"burst": 4}


def test_proxies_are_known_by_address_or_network_and_remembered_boundedly() -> None:
    proxies = Proxies("127.0.0.1, 10.0.0.0/8")
    assert proxies.trusts("127.0.0.1")
    assert proxies.trusts("10.1.2.3")
    assert not proxies.trusts("192.0.2.1")
    assert not proxies.trusts("testclient")  # no address: never a proxy unless all are
    assert Proxies("*").trusts("testclient")
    for n in range(Proxies.KEPT * 2):
        assert not proxies.trusts(f"192.0.2.{n % 250}:{n}")
    assert len(proxies._known) <= Proxies.KEPT
