"""Building the draft against a real database: which posts, which variants, kept choices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.digest.build import build_issue
from newsletter.digest.placeholders import Template, values_for
from newsletter.digest.variants import ensure_variant
from newsletter.errors import DigestError
from newsletter.models import Issue, IssueStatus, IssueVariant
from newsletter.runtime import Runtime
from tests.factories import add_post, add_subscriber, add_topics

# Thursday 26 November 2026, 09:00 in New York: the week 2026-W48 is built.
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _variants(runtime: Runtime, key: str) -> dict[str, IssueVariant]:
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue).where(Issue.key == key)).one()
        return {variant.topic_key: variant for variant in issue.variants}


def test_build_stores_the_weeks_posts_and_one_variant_per_topic_set(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        asylum, border = topics["asylum"], topics["border-enforcement"]
        add_post(session, "old-news", NOW - 10 * DAY, [border])
        add_post(session, "backfill", NOW - 2 * DAY, [border], announced=True)
        add_post(session, "asylum-story", NOW - 3 * DAY, [asylum], image=True)
        add_post(session, "border-one", NOW - 2 * DAY, [border])
        add_post(session, "border-two", NOW - DAY, [border])
        add_post(session, "untagged", NOW - 4 * DAY)
        # Dated last week but collected this week: it would otherwise fall between two issues.
        add_post(session, "late", NOW - 8 * DAY, [border], first_seen_at=NOW - 6 * DAY)
        add_post(session, "tomorrow", NOW + DAY, [border])
        add_subscriber(session, "all@example.org", NOW)
        add_subscriber(session, "asylum@example.org", NOW, [asylum])
        add_subscriber(session, "border@example.org", NOW, [border])
        result = build_issue(session, runtime.settings, NOW)

    assert result.built
    assert result.created
    assert result.key == "2026-W48"
    assert (result.posts, result.variants) == (5, 3)
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue)).one()
        order = [(entry.post.url.split("/")[3], entry.featured) for entry in issue.posts]
    assert issue.status == IssueStatus.DRAFT
    assert order == [
        ("asylum-story", True),  # featured: the newest with an image
        ("border-two", False),
        ("border-one", False),
        ("untagged", False),
        ("late", False),
    ]
    variants = _variants(runtime, "2026-W48")
    assert set(variants) == {"", "asylum", "border-enforcement"}
    assert variants[""].subject == "Asylum Story and 4 more stories"
    assert "Border Two" in variants[""].text
    assert "Untagged" in variants[""].text
    border_text = variants["border-enforcement"].text
    assert "Asylum Story" not in border_text
    assert "Untagged" not in border_text
    assert "Border Two" in border_text
    assert "Late" in border_text
    assert variants["asylum"].subject == "Asylum Story"
    assert "Border" not in variants["asylum"].subject


def test_a_built_variant_is_filled_per_recipient_and_escapes_their_values(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        add_topics(session, runtime.settings, NOW)
        add_post(session, "story", NOW - DAY, title="Hi \ue000unsubscribe_url\ue000 {{ name }}")
        build_issue(session, runtime.settings, NOW)
    variant = _variants(runtime, "2026-W48")[""]
    values = values_for(
        {
            "name": "Kim",
            "email": 'kim+"x"@example.org',
            "unsubscribe_url": "https://news.example.org/unsubscribe?token=a&b",
            "preferences_url": "https://news.example.org/preferences?token=p",
        }
    )
    html = Template(variant.html.encode()).fill(values).decode()
    text = Template(variant.text.encode()).fill(values).decode()
    assert 'href="https://news.example.org/unsubscribe?token=a&amp;b"' in html
    assert "kim+&quot;x&quot;@example.org" in html
    assert "https://news.example.org/unsubscribe?token=a&b" in text
    assert "https://news.example.org/preferences?token=p" in text
    # The look-alike in the title stayed text: the only substitutions are the footer's.
    assert "Hi unsubscribe_url {{ name }}" in text
    assert "Hi unsubscribe_url {{ name }}" in html
    assert "\ue000" not in html + text


def test_rebuild_keeps_editor_choices_and_refuses_a_sent_issue(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        add_topics(session, runtime.settings, NOW)
        first = add_post(session, "first", NOW - 2 * DAY, image=True)
        second = add_post(session, "second", NOW - DAY)
        build_issue(session, runtime.settings, NOW)
    with runtime.sessions.begin() as session:
        issue = session.scalars(select(Issue)).one()
        issue.featured_post_id = second.id
        next(entry for entry in issue.posts if entry.post_id == first.id).excluded = True
        issue.intro_markdown = "A **big** week."
    with runtime.sessions.begin() as session:
        add_post(session, "third", NOW - DAY / 2)
        result = build_issue(session, runtime.settings, NOW + timedelta(hours=1))
    assert not result.created
    assert (result.posts, result.excluded) == (2, 1)
    variant = _variants(runtime, "2026-W48")[""]
    assert variant.subject == "Second and 1 more story"
    assert "<strong>big</strong>" in variant.html
    assert "First" not in variant.text
    with runtime.sessions.begin() as session:
        session.scalars(select(Issue)).one().status = IssueStatus.SENT
    with runtime.sessions.begin() as session, pytest.raises(DigestError, match="already sent"):
        build_issue(session, runtime.settings, NOW + timedelta(hours=2))


def test_posts_in_a_sent_issue_never_return(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        add_topics(session, runtime.settings, NOW)
        add_post(session, "sent-before", NOW - DAY)
        build_issue(session, runtime.settings, NOW)
        session.scalars(select(Issue)).one().status = IssueStatus.SENT
    # A day later the two-day-old post is still in a 7-day window: it must not come back.
    later = NOW + DAY
    with runtime.sessions.begin() as session:
        add_post(session, "fresh", later - timedelta(hours=1))
        result = build_issue(session, runtime.settings, later + 6 * DAY)
    assert result.posts == 1
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue).where(Issue.key == result.key)).one()
        assert [entry.post.title for entry in issue.posts] == ["Fresh"]


def test_nothing_new_builds_nothing_unless_quiet_weeks_are_sent(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        add_topics(session, runtime.settings, NOW)
        result = build_issue(session, runtime.settings, NOW)
    assert not result.built
    quiet = runtime.settings.model_copy(
        update={"digest": runtime.settings.digest.model_copy(update={"quiet_week": "send"})}
    )
    with runtime.sessions.begin() as session:
        result = build_issue(session, quiet, NOW)
    assert result.built
    assert result.quiet
    assert result.variants == 1
    assert "a quiet week" in _variants(runtime, "2026-W48")[""].subject


def test_a_topic_set_that_appears_after_the_build_is_rendered_at_send_time(
    runtime: Runtime,
) -> None:
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        add_post(session, "asylum-story", NOW - DAY, [topics["asylum"]])
        build_issue(session, runtime.settings, NOW)
    with runtime.sessions.begin() as session:
        issue = session.scalars(select(Issue)).one()
        assert {variant.topic_key for variant in issue.variants} == {""}
        made = ensure_variant(session, issue, "asylum,border-enforcement", runtime.settings, NOW)
        assert made is not None
        assert "Asylum Story" in made.text
        again = ensure_variant(session, issue, "asylum,border-enforcement", runtime.settings, NOW)
        assert again is made
        # Nothing this week carries the topic: no variant, the send skips those readers.
        assert ensure_variant(session, issue, "border-enforcement", runtime.settings, NOW) is None
    assert set(_variants(runtime, "2026-W48")) == {"", "asylum,border-enforcement"}
