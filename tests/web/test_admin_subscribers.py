"""The subscribers' screens: find, read the story, act (publishers only, recorded), erase."""

from __future__ import annotations

import io
import json

import lxml.html
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select, update

from newsletter.editors.models import Role
from newsletter.models import IssueStatus
from newsletter.runtime import Runtime
from subscribers.csv_import import import_csv
from subscribers.models import (
    Cadence,
    ErasedAddress,
    SignupRequest,
    Status,
    Subscriber,
    SubscriberEvent,
    SubscriberTopic,
    Suppression,
)
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import csrf_of, make_editor, sign_in
from tests.web.test_subscription import NOW, browser, drain, signup, subscriber
from tests.web.test_subscription import site as site


@pytest.fixture
def publisher(site: Runtime) -> TestClient:
    make_editor(site, "pub@example.org", Role.PUBLISHER)
    client = browser(site)
    sign_in(client, "pub@example.org")
    return client


def _signed_up(site: Runtime, email: str = "ana@example.org") -> int:
    """A reader who used the form (pending, confirmation sent)."""
    signup(browser(site), email, name="Ana", topics=["asylum"])
    found = subscriber(site, email)
    assert found is not None
    return found.id


def _post(client: TestClient, path: str, **data: object) -> Response:
    token = csrf_of(client.get("/admin/subscribers").text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def _events(site: Runtime, subscriber_id: int) -> list[str]:
    with site.sessions() as session:
        return list(
            session.scalars(
                select(SubscriberEvent.detail)
                .where(SubscriberEvent.subscriber_id == subscriber_id)
                .order_by(SubscriberEvent.id)
            )
        )


def cadences_of(site: Runtime, subscriber_id: int) -> list[Cadence]:
    with site.sessions() as session:
        return list(
            session.scalars(
                select(SubscriberTopic.cadence).where(
                    SubscriberTopic.subscriber_id == subscriber_id
                )
            )
        )


def selects(html: str) -> dict[str, list[str]]:
    """Each cadence select's id -> its options' values, the selected one first."""
    page = lxml.html.fromstring(html)
    found = {}
    for select_ in page.cssselect("#edit-cadences select"):
        options = select_.cssselect("option")
        chosen = [o.get("value") for o in options if o.get("selected") is not None]
        found[select_.get("id")] = chosen + [o.get("value") for o in options]
    return found


def test_find_by_part_of_the_address_and_open_the_timeline(
    site: Runtime, publisher: TestClient
) -> None:
    ana = _signed_up(site)
    _signed_up(site, "bob@example.net")
    page = publisher.get("/admin/subscribers", params={"q": "ana@", "status": "pending"})
    assert page.status_code == 200
    links = lxml.html.fromstring(page.text).cssselect("table.people a")
    assert [a.text_content() for a in links] == ["ana@example.org"]
    assert (
        publisher.get("/admin/subscribers", params={"q": "ana", "status": "active"}).text.count(
            "ana@example.org"
        )
        == 0
    )
    story = publisher.get(links[0].get("href"))
    assert story.status_code == 200
    timeline = lxml.html.fromstring(story.text).cssselect("ol.timeline li")
    assert "Signed up (form: signup" in timeline[0].text_content()
    assert "asylum" in story.text
    assert publisher.get(f"/admin/subscribers/{ana + 100}").status_code == 404


def test_an_editor_reads_but_cannot_act_and_every_post_needs_the_token(
    site: Runtime, publisher: TestClient
) -> None:
    ana = _signed_up(site)
    make_editor(site, "ed@example.org", Role.EDITOR)
    editor = browser(site)
    sign_in(editor, "ed@example.org")
    page = editor.get(f"/admin/subscribers/{ana}")
    assert page.status_code == 200
    assert "/erase" not in page.text  # no action offered
    for action in ("edit", "unsubscribe", "suppress", "lift", "resend", "export", "erase"):
        path = f"/admin/subscribers/{ana}/{action}"
        assert _post(editor, path).status_code == 403, action
        refused = publisher.post(path, data={}, follow_redirects=False)
        assert refused.status_code == 403, action
    assert _events(site, ana) == ["signup"]


def test_publisher_actions_are_recorded_with_who_did_them(
    site: Runtime, publisher: TestClient, smtp: SmtpServer
) -> None:
    ana = _signed_up(site)
    mailed = len(smtp.received)
    base = f"/admin/subscribers/{ana}"
    edited = _post(publisher, f"{base}/edit", name="Ana María", topics=["border-enforcement"])
    assert edited.status_code == 303
    page = publisher.get(edited.headers["location"])
    assert "Saved." in page.text
    assert "Ana María" in page.text
    assert (
        "border-enforcement"
        in lxml.html.fromstring(page.text).cssselect("dl.meta")[0].text_content()
    )
    assert "Border Enforcement</label>" in page.text  # the topic's name, not its slug
    # A refused edit comes back on the page as typed, the reason beside the form.
    long = "x" * 300
    refused = _post(publisher, f"{base}/edit", name=long, topics=["asylum"])
    assert refused.status_code == 400
    assert f'value="{long}"' in refused.text
    assert 'aria-describedby="edited-error"' in refused.text
    assert "longer than" in refused.text
    asylum = refused.text.split('value="asylum"')[1][:12]
    assert "checked" in asylum
    forged = _post(publisher, f"{base}/edit", name="Ana", topics=["no-such-topic"])
    assert forged.status_code == 400
    assert "no-such-topic" in forged.text
    too_long = _post(publisher, f"{base}/suppress", reason="r" * 301)
    assert too_long.status_code == 400
    assert 'value="' + "r" * 301 + '"' in too_long.text
    # The resend goes through the signup queue; the confirmation interval still applies.
    _post(publisher, f"{base}/resend")
    with site.sessions() as session:
        queued = session.scalar(
            select(SignupRequest.kind).where(SignupRequest.email == "ana@example.org")
        )
    assert queued == "links"
    drain(site)
    assert len(smtp.received) == mailed  # one went out at signup, within the interval
    _post(publisher, f"{base}/suppress", reason="asked by phone")
    _post(publisher, f"{base}/lift")
    _post(publisher, f"{base}/unsubscribe")
    exported = _post(publisher, f"{base}/export")
    assert exported.headers["content-type"] == "application/json"
    data = json.loads(exported.text)
    assert data["subscriber"]["name"] == "Ana María"
    assert data["subscriber"]["status"] == "unsubscribed"
    assert _events(site, ana)[1:] == [
        "changed name, topics (by editor pub@example.org)",
        "confirmation resent (by editor pub@example.org)",
        "suppressed: asked by phone (by editor pub@example.org)",
        "suppression lifted (by editor pub@example.org)",
        "unsubscribed (by editor pub@example.org)",
        "data exported (by editor pub@example.org)",
    ]


def test_a_resend_mails_a_pending_reader_once_the_interval_is_over(
    site: Runtime, publisher: TestClient, smtp: SmtpServer
) -> None:
    with site.sessions.begin() as session:
        session.add(
            Subscriber(
                email="cy@example.org",
                name="Cy",
                status=Status.PENDING,
                attributes={},
                soft_bounces=0,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    found = subscriber(site, "cy@example.org")
    assert found is not None
    _post(publisher, f"/admin/subscribers/{found.id}/resend")
    drain(site)
    assert [r.recipients for r in smtp.received] == [["cy@example.org"]]


def test_erase_leaves_only_a_keyed_hash_that_refuses_imports_and_signups(
    site: Runtime, publisher: TestClient, smtp: SmtpServer
) -> None:
    ana = _signed_up(site)
    _post(publisher, f"/admin/subscribers/{ana}/unsubscribe")  # suppressed: a row naming her
    wrong = _post(publisher, f"/admin/subscribers/{ana}/erase", confirm="someone@example.org")
    assert wrong.status_code == 400
    assert 'value="someone@example.org"' in wrong.text  # kept, inside the admin
    assert 'aria-describedby="erased-error"' in wrong.text
    erased = _post(publisher, f"/admin/subscribers/{ana}/erase", confirm="ANA@example.org")
    assert erased.status_code == 303
    assert "Erased." in publisher.get(erased.headers["location"]).text
    with site.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
        assert session.scalar(select(func.count()).select_from(SubscriberEvent)) == 0
        assert session.scalar(select(func.count()).select_from(Suppression)) == 0
        kept = session.scalars(select(ErasedAddress)).all()
    assert [(len(row.digest), row.erased_by) for row in kept] == [(64, "pub@example.org")]
    assert "ana" not in kept[0].digest
    mailed = len(smtp.received)
    signup(browser(site), "ana@example.org")
    assert subscriber(site, "ana@example.org") is None
    assert len(smtp.received) == mailed
    report = import_csv(
        site.sessions,
        io.BytesIO(b"email,name\nana@example.org,Ana\nbo@example.org,Bo\n"),
        NOW,
        confirmed=True,
        keys=site.verification_keys,
    )
    assert report.imported == 1
    assert [(r.email, r.reason.split(":")[0]) for r in report.rejected] == [
        ("ana@example.org", "erased at the person's request")
    ]


def test_hostile_filters_get_an_answer_not_a_traceback(publisher: TestClient) -> None:
    for params in (
        {"before": str(2**70)},
        {"q": "x" * 5000},
        {"since": "not-a-date", "until": "2026-13-45", "status": "nope", "match": "regex"},
        {"done": "<script>alert(1)</script>"},
    ):
        answer = publisher.get("/admin/subscribers", params=params)
        assert answer.status_code in (200, 422), params
        assert "Traceback" not in answer.text
        assert "<script>alert" not in answer.text


def test_the_audience_page_draws_each_week_with_its_numbers_beside(
    site: Runtime, publisher: TestClient
) -> None:
    _signed_up(site)
    page = publisher.get("/admin/audience")
    assert page.status_code == 200
    tree = lxml.html.fromstring(page.text)
    charts = tree.cssselect("figure.chart svg")
    assert len(charts) == 6  # five kinds per week, and the topics
    assert all(svg.get("role") == "img" and svg.get("aria-labelledby") for svg in charts)
    signups = tree.cssselect("#week-signups-title")[0].text_content()
    assert signups.endswith(" 1")  # this week's one signup, in the chart's own words
    assert "<script" not in page.text


def test_publishers_export_everyone_the_filters_find_as_csv(
    site: Runtime, publisher: TestClient
) -> None:
    _signed_up(site)
    _signed_up(site, "bob@example.net")
    found = publisher.get("/admin/subscribers", params={"q": "example.net"})
    link = lxml.html.fromstring(found.text).cssselect("a[href^='/admin/subscribers/export.csv']")
    exported = publisher.get(link[0].get("href"))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = exported.text.splitlines()
    assert rows[0].startswith("email,name,topics,status")
    assert [row.split(",")[0] for row in rows[1:]] == ["bob@example.net"]
    make_editor(site, "ed@example.org", Role.EDITOR)
    editor = browser(site)
    sign_in(editor, "ed@example.org")
    assert editor.get("/admin/subscribers/export.csv").status_code == 403
    assert "export.csv" not in editor.get("/admin/subscribers").text


def test_readers_who_clicked_lately_are_a_segment_with_per_subscriber_figures(
    site: Runtime, publisher: TestClient
) -> None:
    from datetime import timedelta

    from newsletter.analytics.models import ClickEvent
    from newsletter.config.schema import AnalyticsSettings
    from tests import factories

    # Without per-subscriber figures nobody is known to have clicked: the filter is not there.
    assert 'name="engaged"' not in publisher.get("/admin/subscribers").text
    site.settings = site.settings.model_copy(
        update={"analytics": AnalyticsSettings(per_subscriber=True, retention_days=30)}
    )
    with site.sessions.begin() as session:
        sent = factories.issue(NOW - timedelta(days=60), status=IssueStatus.SENT)
        session.add(sent)
        people = {
            name: factories.add_subscriber(session, f"{name}@example.org", NOW - timedelta(days=90))
            for name in ("reader", "scanned", "lapsed", "silent")
        }
        for name, days, verdict in (
            ("reader", 3, "human"),
            ("scanned", 1, "scanner"),  # a gateway's click is no sign of a reader
            ("lapsed", 20, "human"),
        ):
            session.add(
                ClickEvent(
                    issue_id=sent.id,
                    position=0,
                    variant_id=0,
                    subscriber_id=people[name].id,
                    at=NOW - timedelta(days=days),
                    verdict=verdict,
                )
            )
    page = lxml.html.fromstring(publisher.get("/admin/subscribers").text)
    # Windows no longer than the clicks are kept (30 days here).
    assert [o.get("value") for o in page.cssselect("select[name=engaged] option")] == [
        "",
        "7",
        "30",
    ]

    def found(**params: str) -> list[str]:
        html = publisher.get("/admin/subscribers", params=params).text
        return sorted(
            a.text_content() for a in lxml.html.fromstring(html).cssselect("table.people a")
        )

    assert found(engaged="7") == ["reader@example.org"]
    assert found(engaged="30") == ["lapsed@example.org", "reader@example.org"]
    assert found(engaged="30", q="lapsed") == ["lapsed@example.org"]
    # A window not offered (past retention, or not a number) is no filter at all.
    assert len(found(engaged="90")) == len(found(engaged="x")) == len(found()) == 4
    export = publisher.get("/admin/subscribers/export.csv", params={"engaged": "7"})
    assert export.status_code == 200
    assert "reader@example.org" in export.text
    assert "lapsed@example.org" not in export.text


def test_a_cadence_no_longer_offered_is_kept_or_left_never_chosen_anew(
    site: Runtime, publisher: TestClient
) -> None:
    assert site.settings.digest.cadences == ["weekly"]
    ana = _signed_up(site)
    base = f"/admin/subscribers/{ana}"
    assert "edit-cadences" not in publisher.get(base).text  # weekly alone: nothing to choose
    with site.sessions.begin() as session:  # chosen while daily was offered
        session.execute(update(SubscriberTopic).values(cadence=Cadence.DAILY))
    page = publisher.get(base).text
    assert selects(page) == {"cadence-asylum": ["asylum:daily", "asylum:daily", "asylum:weekly"]}
    assert "Daily digest (no longer offered)" in page
    form = {"name": "Ana", "topics": ["asylum"]}
    assert (
        _post(publisher, f"{base}/edit", **form, cadences="asylum:daily")
        .headers["location"]
        .endswith("done=unchanged")
    )
    refused = _post(publisher, f"{base}/edit", **form, cadences="asylum:each")
    assert refused.status_code == 400
    assert "Frequency not offered here: &#39;each&#39;." in refused.text
    assert cadences_of(site, ana) == [Cadence.DAILY]
    assert _post(publisher, f"{base}/edit", **form, cadences="asylum:weekly").status_code == 303
    assert cadences_of(site, ana) == [Cadence.WEEKLY]
    assert "edit-cadences" not in publisher.get(base).text
