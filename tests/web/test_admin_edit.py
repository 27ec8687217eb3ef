"""Editing a draft, previewing the intro, and sending tests, against a built issue and real SMTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from newsletter.clock import FixedClock
from newsletter.digest.build import build_issue
from newsletter.editors import review
from newsletter.editors.models import Role
from newsletter.models import Delivery, Issue, IssueStatus, Post
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.factories import add_post, add_subscriber, add_topics
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import csrf_of, make_editor, sign_in

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


@pytest.fixture
def built(runtime: Runtime) -> tuple[Runtime, int, dict[str, int]]:
    """A draft built by the digest stage from three stories, and one subscriber to all topics."""
    runtime.clock = FixedClock(NOW)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        posts = {
            slug: add_post(session, slug, NOW - timedelta(hours=hours), [topics["asylum"]]).id
            for slug, hours in (("first-story", 30), ("second-story", 20), ("third-story", 10))
        }
        add_subscriber(session, "reader@example.org", NOW)
        result = build_issue(session, runtime.settings, NOW)
    assert result.issue_id is not None
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    return runtime, result.issue_id, posts


def _client(runtime: Runtime) -> TestClient:
    client = TestClient(create_app(runtime), base_url="https://news.example.org")
    sign_in(client, "ed@example.org")
    return client


def _all_topics_text(runtime: Runtime, issue_id: int) -> str:
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        return next(v.text for v in issue.variants if v.topic_key == "")


def test_saving_excludes_reorders_features_and_re_renders(
    built: tuple[Runtime, int, dict[str, int]],
) -> None:
    runtime, issue_id, posts = built
    client = _client(runtime)
    before = _all_topics_text(runtime, issue_id)
    assert "Second Story" in before
    form = client.get(f"/admin/issues/{issue_id}/edit")
    assert form.status_code == 200
    response = client.post(
        f"/admin/issues/{issue_id}/edit",
        data={
            "csrf_token": csrf_of(form.text),
            "subject": "Our week at the border",
            "preheader": "Three stories, one intro",
            "intro_markdown": "Hello **readers**. <script>alert(1)</script>",
            "include": [str(posts["first-story"]), str(posts["third-story"])],
            "featured": str(posts["first-story"]),
            f"position_{posts['first-story']}": "5",
            f"position_{posts['second-story']}": "1",
            f"position_{posts['third-story']}": "0",
        },
    )
    assert response.status_code == 200
    text = _all_topics_text(runtime, issue_id)
    assert "Second Story" not in text
    assert text.index("First Story") < text.index("Third Story")  # featured comes first
    assert "Hello readers." in text or "Hello **readers**." in text
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        html = next(v.html for v in issue.variants if v.topic_key == "")
        assert issue.subject == "Our week at the border"
        assert issue.featured_post_id == posts["first-story"]
        assert issue.donate_enabled is False  # the box was not ticked
        order = [(entry.post_id, entry.excluded) for entry in issue.posts]
    assert "<strong>readers</strong>" in html
    assert "<script>alert(1)" not in html
    assert order == [
        (posts["third-story"], False),
        (posts["second-story"], True),
        (posts["first-story"], False),
    ]


def test_an_edit_after_approval_returns_the_issue_to_draft(
    built: tuple[Runtime, int, dict[str, int]],
) -> None:
    runtime, issue_id, posts = built
    with runtime.sessions.begin() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        review.approve(issue, "pub@example.org", NOW, NOW + timedelta(days=1))
    client = _client(runtime)
    form = client.get(f"/admin/issues/{issue_id}/edit")
    assert "returns this approved issue to draft" in form.text
    client.post(
        f"/admin/issues/{issue_id}/edit",
        data={"csrf_token": csrf_of(form.text), "include": [str(p) for p in posts.values()]},
    )
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        assert (issue.status, issue.send_at) == (IssueStatus.DRAFT, None)
        assert issue.status_reason == "edited after approval"


def test_a_featured_story_must_be_included(built: tuple[Runtime, int, dict[str, int]]) -> None:
    runtime, issue_id, posts = built
    client = _client(runtime)
    form = client.get(f"/admin/issues/{issue_id}/edit")
    response = client.post(
        f"/admin/issues/{issue_id}/edit",
        data={
            "csrf_token": csrf_of(form.text),
            "subject": "Kept as typed",
            "include": [str(posts["first-story"])],
            "featured": str(posts["second-story"]),
        },
    )
    assert response.status_code == 400
    assert "Second Story" in _all_topics_text(runtime, issue_id)  # nothing was saved
    # The form comes back inside the admin as the editor left it, the reason beside the stories.
    assert 'value="Kept as typed"' in response.text
    assert 'aria-describedby="featured-error"' in response.text
    assert "must be one of the included stories" in response.text
    second = re.search(rf'value="{posts["second-story"]}"[^>]*>', response.text)
    assert second is not None
    assert (
        "checked" in response.text.split(f'name="include" value="{posts["first-story"]}"')[1][:80]
    )


def test_a_subject_too_long_comes_back_typed_with_its_error(
    built: tuple[Runtime, int, dict[str, int]],
) -> None:
    runtime, issue_id, _ = built
    client = _client(runtime)
    form = client.get(f"/admin/issues/{issue_id}/edit")
    long = "x" * 501
    response = client.post(
        f"/admin/issues/{issue_id}/edit",
        data={"csrf_token": csrf_of(form.text), "subject": long, "intro_markdown": "My intro"},
    )
    assert response.status_code == 400
    assert f'value="{long}"' in response.text
    assert 'aria-describedby="subject-error"' in response.text
    assert "My intro</textarea>" in response.text
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        assert issue.subject != long


def test_up_and_down_buttons_reorder_save_and_say_so(
    built: tuple[Runtime, int, dict[str, int]],
) -> None:
    runtime, issue_id, _ = built
    client = _client(runtime)
    form = client.get(f"/admin/issues/{issue_id}/edit")
    assert "Asylum" in form.text  # the stories' topics by name
    order = re.findall(r'name="position_(\d+)"', form.text)
    assert len(order) == 3
    moved = client.post(
        f"/admin/issues/{issue_id}/edit",
        data={
            "csrf_token": csrf_of(form.text),
            "include": order,
            "subject": "Typed before moving",
            "move": f"up:{order[2]}",
            **{f"position_{post}": str(n) for n, post in enumerate(order)},
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/admin/issues/{issue_id}/edit?saved=1#stories"
    page = client.get(moved.headers["location"])
    assert "Saved" in page.text
    assert 'value="Typed before moving"' in page.text
    assert re.findall(r'name="position_(\d+)"', page.text) == [order[0], order[2], order[1]]
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        assert [entry.post_id for entry in issue.posts] == [
            int(order[0]),
            int(order[2]),
            int(order[1]),
        ]
    saved = client.post(
        f"/admin/issues/{issue_id}/edit",
        data={"csrf_token": csrf_of(page.text), "include": order},
    )
    assert saved.url.path == f"/admin/issues/{issue_id}"
    assert "Saved" in saved.text


def test_intro_preview_is_sanitised_and_changes_nothing(
    built: tuple[Runtime, int, dict[str, int]],
) -> None:
    runtime, issue_id, _ = built
    client = _client(runtime)
    token = csrf_of(client.get(f"/admin/issues/{issue_id}/edit").text)
    response = client.post(
        "/admin/intro-preview",
        data={"csrf_token": token, "intro_markdown": "*Hi* <img src=x onerror=alert(1)>"},
    )
    assert response.status_code == 200
    assert "<em>Hi</em>" in response.text
    assert "<img" not in response.text  # raw HTML in the intro is shown as text, never as markup
    with runtime.sessions() as session:
        assert session.get(Issue, issue_id).intro_markdown == ""  # type: ignore[union-attr]


def test_a_test_send_reaches_the_server_marked_and_counts_nowhere(
    built: tuple[Runtime, int, dict[str, int]], smtp: SmtpServer
) -> None:
    runtime, issue_id, _ = built
    runtime.settings = runtime.settings.model_copy(update={"smtp_url": smtp.url})
    client = _client(runtime)
    page = client.get(f"/admin/issues/{issue_id}")
    response = client.post(
        f"/admin/issues/{issue_id}/test",
        data={
            "csrf_token": csrf_of(page.text),
            "addresses": "ed@example.org, second@example.org",
            "variant": "",
        },
    )
    assert response.status_code == 200
    assert "Test sent to ed@example.org, second@example.org" in response.text
    assert sorted(r.recipients[0] for r in smtp.received) == [
        "ed@example.org",
        "second@example.org",
    ]
    message = BytesParser(policy=policy.default).parsebytes(smtp.received[0].data)
    assert str(message["Subject"]).startswith("[TEST] ")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_a_failing_mail_server_is_reported_not_a_traceback(
    built: tuple[Runtime, int, dict[str, int]], smtp: SmtpServer
) -> None:
    runtime, issue_id, _ = built
    smtp.faults.rcpt_replies = {"ed@example.org": "550 5.1.1 No such user"}
    runtime.settings = runtime.settings.model_copy(update={"smtp_url": smtp.url})
    client = _client(runtime)
    page = client.get(f"/admin/issues/{issue_id}")
    response = client.post(
        f"/admin/issues/{issue_id}/test",
        data={"csrf_token": csrf_of(page.text), "addresses": "ed@example.org"},
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 502
    assert "The test was not sent" in response.text
    assert "550" in response.text
    assert 'name="addresses" value="ed@example.org"' in response.text


def test_a_test_of_a_version_the_issue_lacks_is_404_and_sends_nothing(
    built: tuple[Runtime, int, dict[str, int]], smtp: SmtpServer
) -> None:
    runtime, issue_id, _ = built
    runtime.settings = runtime.settings.model_copy(update={"smtp_url": smtp.url})
    client = _client(runtime)
    token = csrf_of(client.get(f"/admin/issues/{issue_id}").text)
    for path, variant in (
        (f"/admin/issues/{issue_id}/test", "nope"),
        ("/admin/issues/999/test", ""),
    ):
        response = client.post(
            path, data={"csrf_token": token, "addresses": "ed@example.org", "variant": variant}
        )
        assert response.status_code == 404, path
    assert smtp.received == []


@pytest.mark.parametrize(
    "addresses", ["not-an-address", "", "a@x.org b@x.org c@x.org d@x.org e@x.org f@x.org"]
)
def test_bad_test_addresses_are_refused(
    built: tuple[Runtime, int, dict[str, int]], addresses: str
) -> None:
    runtime, issue_id, _ = built
    client = _client(runtime)
    page = client.get(f"/admin/issues/{issue_id}")
    response = client.post(
        f"/admin/issues/{issue_id}/test",
        data={"csrf_token": csrf_of(page.text), "addresses": addresses},
    )
    # Inside the admin, on the issue's page: what was typed is still there, the reason beside it.
    assert response.status_code == 400
    assert "Sign out" in response.text
    assert f'name="addresses" value="{addresses}"' in response.text
    assert 'aria-describedby="addresses-error"' in response.text
    assert 'id="addresses-error"' in response.text


def test_the_deliverability_report_scores_the_version_a_subscriber_gets(
    built: tuple[Runtime, int, dict[str, int]],
) -> None:
    import shutil

    runtime, issue_id, _ = built
    client = _client(runtime)
    page = client.get(f"/admin/issues/{issue_id}")
    assert f"/admin/issues/{issue_id}/deliverability?variant=" in page.text
    report = client.get(f"/admin/issues/{issue_id}/deliverability?variant=")
    assert report.status_code == 200
    if shutil.which("spamassassin") is None:
        assert "SpamAssassin is not installed" in report.text
    else:
        score = re.search(r'id="spam-score">(-?[\d.]+)<', report.text)
        assert score is not None, report.text
        assert float(score.group(1)) <= 0.0
    from newsletter.digest.deliverability import EMAIL_CHECK

    if (EMAIL_CHECK / "node_modules" / "doiuse-email").is_dir() and shutil.which("node"):
        errors = re.findall(r'<li class="warn">([^<]*)', report.text)
        assert '<p id="client-summary">0 errors,' in report.text, errors
        # Nothing is known and accepted any more: long words wrap without table-layout.
        assert "table-layout" not in report.text
    else:
        assert "doiuse-email is not installed" in report.text
    assert client.get(f"/admin/issues/{issue_id}/deliverability?variant=nope").status_code == 404


def test_the_spam_check_reports_a_missing_tool_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from newsletter.digest import deliverability

    monkeypatch.setattr(deliverability.shutil, "which", lambda name: None)
    report = deliverability.Report()
    deliverability.spam_check(b"Subject: x\\r\\n\\r\\nbody\\r\\n", report)
    deliverability.client_check(b"<p>x</p>", report)
    assert report.spam_score is None
    assert "not installed" in report.spam_note
    assert "not installed" in report.client_note


def test_the_issues_list_shows_a_drafts_story_count_and_period(
    built: tuple[Runtime, int, dict[str, int]],
) -> None:
    runtime, issue_id, _ = built
    page = _client(runtime).get("/admin/issues")
    row = page.text.split(f'data-issue="{issue_id}"')[1].split("</tr>")[0]
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        included = sum(1 for entry in issue.posts if not entry.excluded)
        start = issue.period_start.astimezone(runtime.settings.zone)
    assert f"{included} stories · {start.strftime('%d %b')} – " in row


def test_an_issue_overrides_a_storys_words_and_image_and_a_reset_returns_to_the_post(
    built: tuple[Runtime, int, dict[str, int]],
) -> None:
    runtime, issue_id, posts = built
    client = _client(runtime)
    first = posts["first-story"]
    form = client.get(f"/admin/issues/{issue_id}/edit")
    included = [str(p) for p in posts.values()]
    saved = client.post(
        f"/admin/issues/{issue_id}/edit",
        data={
            "csrf_token": csrf_of(form.text),
            "include": included,
            f"title_{first}": "A sharper title for this week",
            f"teaser_{first}": "Our own teaser.",
            f"image_url_{first}": "https://cdn.example.org/wall.jpg",
            f"image_alt_{first}": "The wall at dusk",
        },
    )
    assert saved.status_code == 200
    text = _all_topics_text(runtime, issue_id)
    assert "A sharper title for this week" in text
    assert "Our own teaser." in text
    assert "First Story" not in text
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        html = next(v.html for v in issue.variants if v.topic_key == "")
        post = session.get(Post, first)
        assert post is not None
        assert (post.title, post.image_url) == ("First Story", None)  # the post is untouched
    assert "https://cdn.example.org/wall.jpg" in html
    assert 'alt="The wall at dusk"' in html

    page = client.get(f"/admin/issues/{issue_id}/edit")
    assert "edited for this issue" in page.text
    reset = client.post(
        f"/admin/issues/{issue_id}/edit",
        data={
            "csrf_token": csrf_of(page.text),
            "include": included,
            f"title_{first}": "A sharper title for this week",
            "reset": str(first),
        },
        follow_redirects=False,
    )
    assert reset.status_code == 303
    text = _all_topics_text(runtime, issue_id)
    assert "First Story" in text
    assert "A sharper title" not in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("image_url", "javascript:alert(1)"),
        ("image_url", "/relative/picture.jpg"),
        ("title", "t" * 501),
    ],
)
def test_a_bad_override_comes_back_typed_with_its_error(
    built: tuple[Runtime, int, dict[str, int]], field: str, value: str
) -> None:
    runtime, issue_id, posts = built
    client = _client(runtime)
    first = posts["first-story"]
    form = client.get(f"/admin/issues/{issue_id}/edit")
    response = client.post(
        f"/admin/issues/{issue_id}/edit",
        data={
            "csrf_token": csrf_of(form.text),
            "include": [str(p) for p in posts.values()],
            f"{field}_{first}": value,
            "subject": "Kept too",
        },
    )
    assert response.status_code == 400
    assert f'value="{value}"' in response.text
    assert f'aria-describedby="{field}_{first}-error"' in response.text
    assert 'value="Kept too"' in response.text
    assert value not in _all_topics_text(runtime, issue_id)
