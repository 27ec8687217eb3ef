"""Special issues: breaking news and appeals through the weekly issue's review and send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from sqlalchemy import select

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.digest.build import build_issue
from newsletter.errors import DigestError
from newsletter.mail.transport import MemoryTransport
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueStatus, StoryReceipt
from newsletter.pipeline import review, special
from newsletter.pipeline.audience import audience
from newsletter.pipeline.due import decide
from newsletter.pipeline.send import send
from newsletter.runtime import Runtime
from subscribers.models import Subscriber
from tests import factories
from tests.smtpd import SmtpServer
from tests.web.test_subscription import part

# A Friday morning in New York (the site's zone): the weekly digest goes out later that day.
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
READERS = ("all@example.net", "border@example.net", "asylum@example.net")


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    return _world(settings)


def _world(settings: Settings) -> Runtime:
    built = Runtime.build(settings, clock=FixedClock(NOW))
    migrate.upgrade(built.engine)
    with built.sessions.begin() as session:
        topics = factories.add_topics(session, built.settings, NOW)
        border, asylum = topics["border-enforcement"], topics["asylum"]
        factories.add_post(session, "the-wall", NOW - timedelta(days=1), [border], image=True)
        factories.add_post(session, "the-court", NOW - timedelta(days=2), [asylum])
        session.add_all(
            [
                factories.subscriber(READERS[0], NOW),
                factories.subscriber(READERS[1], NOW, topics=[border]),
                factories.subscriber(READERS[2], NOW, topics=[asylum]),
            ]
        )
    return built


def _sent(runtime: Runtime, issue_id: int) -> dict[str, Message]:
    """Send the issue now through a memory transport: each reader's message by address."""
    review.send_now(runtime, issue_id, "pub@example.org")
    memory = MemoryTransport()
    result = send(runtime, issue_id, lambda: memory).result
    assert result is not None
    return {m.recipients[0]: message_from_bytes(m.data) for m in memory.sent}


def _html(message: Message) -> str:
    return part(message, "html")


def _text(message: Message) -> str:
    return part(message, "plain")


def test_breaking_news_goes_to_its_topic_audience_only(runtime: Runtime) -> None:
    made = special.create(
        runtime,
        special.SpecialDraft(
            "breaking",
            topics=("border-enforcement",),
            post_url="https://news.example.org/the-wall/?utm_source=x",
            intro_markdown="Our reporter is **at the wall**.",
        ),
    )
    assert made.key == "2026-11-27-breaking"
    shown = audience(runtime, made.issue_id)
    assert shown.receive == 2
    assert shown.others == {"off_topic": 1}
    mailed = _sent(runtime, made.issue_id)
    assert set(mailed) == {"all@example.net", "border@example.net"}
    with runtime.sessions() as session:
        skipped = session.query(Delivery).filter_by(status=DeliveryStatus.SKIPPED).one()
        assert skipped.last_error == "not in this special issue's audience (asylum)"
    message = mailed["border@example.net"]
    assert message["Subject"] == "Breaking news: The Wall"
    html = _html(message)
    assert "Breaking news" in html
    assert "<strong>at the wall</strong>" in html
    assert "The teaser of the-wall." in html
    assert "Read more: https://news.example.org/r/" in _text(message)
    # A second one the same day has a key of its own.
    again = special.create(runtime, special.SpecialDraft("breaking", post_url=_url("the-court")))
    assert again.key == "2026-11-27-breaking-2"


def _url(slug: str) -> str:
    return f"https://news.example.org/{slug}/"


def test_an_appeal_carries_its_safe_body_and_button(runtime: Runtime) -> None:
    body = (
        "# We need you\n\nHelp us <script>alert(1)</script> keep reporting.\n\n"
        "[a link](javascript:alert(2)) and [ours](https://news.example.org/why)\n"
    )
    made = special.create(
        runtime,
        special.SpecialDraft(
            "appeal",
            topics=("asylum",),
            subject="A word from the newsroom",
            body_markdown=body,
            cta_label="Give now",
            cta_url="https://news.example.org/give",
        ),
    )
    mailed = _sent(runtime, made.issue_id)
    assert set(mailed) == {"all@example.net", "asylum@example.net"}
    html = _html(mailed["asylum@example.net"])
    # Raw HTML is shown as text, and a javascript: link is no link.
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, never run
    assert "keep reporting" in html
    assert ">Give now<" in html
    assert "Make a contribution" in html  # the donate block, as the digest's
    text = _text(mailed["asylum@example.net"])
    assert "Give now: https://news.example.org/r/" in text
    with runtime.sessions() as session:
        issue = session.get(Issue, made.issue_id)
        assert issue is not None
        assert issue.audience == "asylum"


@pytest.mark.parametrize(
    ("draft", "words"),
    [
        (special.SpecialDraft("breaking", post_url=_url("nowhere")), "no collected post"),
        (special.SpecialDraft("breaking", post_url="ftp://x.org/a"), "http(s)"),
        (special.SpecialDraft("appeal", subject="S", body_markdown=" "), "needs some text"),
        (special.SpecialDraft("appeal", body_markdown="Hi"), "needs a subject"),
        (
            special.SpecialDraft(
                "appeal", subject="S", body_markdown="Hi", cta_label="Go", cta_url="javascript:x"
            ),
            "https://",
        ),
        (special.SpecialDraft("appeal", subject="S", body_markdown="Hi", cta_label="Go"), "both"),
        (special.SpecialDraft("appeal", subject="S", body_markdown="x" * 50_001), "at most"),
        (special.SpecialDraft("breaking", post_url=_url("the-wall"), topics=("nope",)), "nope"),
        (special.SpecialDraft("weekly"), "breaking or appeal"),
    ],
)
def test_bad_input_is_one_clear_error_and_stores_nothing(
    runtime: Runtime, draft: special.SpecialDraft, words: str
) -> None:
    with pytest.raises(DigestError, match=None) as raised:
        special.create(runtime, draft)
    assert words in str(raised.value)
    with runtime.sessions() as session:
        assert session.query(Issue).count() == 0


def test_the_weekly_issue_keeps_the_story_unless_the_editor_says_so(runtime: Runtime) -> None:
    kept = special.create(runtime, special.SpecialDraft("breaking", post_url=_url("the-wall")))
    _sent(runtime, kept.issue_id)
    taken = special.create(
        runtime,
        special.SpecialDraft("breaking", post_url=_url("the-court"), leave_out_of_weekly=True),
    )
    review.approve(runtime, taken.issue_id, "pub@example.org", NOW + timedelta(days=2))
    with runtime.sessions.begin() as session:
        built = build_issue(session, runtime.settings, NOW + timedelta(hours=1))
        weekly = session.get(Issue, built.issue_id)
        assert weekly is not None
        assert [entry.post.url for entry in weekly.posts] == [_url("the-wall")]


def test_a_reader_never_gets_a_story_twice(runtime: Runtime) -> None:
    # Breaking news about the wall, for border readers, in the morning ...
    breaking = special.create(
        runtime,
        special.SpecialDraft("breaking", topics=("border-enforcement",), post_url=_url("the-wall")),
    )
    assert set(_sent(runtime, breaking.issue_id)) == {"all@example.net", "border@example.net"}
    # ... then the weekly digest the same day: those two get it without the wall.
    with runtime.sessions.begin() as session:
        weekly_id = build_issue(session, runtime.settings, NOW).issue_id
    assert weekly_id is not None
    shown = audience(runtime, weekly_id)
    assert shown.receive == 2
    assert shown.others == {"received": 1}
    mailed = _sent(runtime, weekly_id)
    assert set(mailed) == {"all@example.net", "asylum@example.net"}
    assert "The Court" in _html(mailed["all@example.net"])
    assert "The Wall" not in _html(mailed["all@example.net"])
    assert "The Wall" not in _text(mailed["all@example.net"])
    with runtime.sessions() as session:
        skipped = (
            session.query(Delivery)
            .filter_by(issue_id=weekly_id, status=DeliveryStatus.SKIPPED)
            .one()
        )
        assert skipped.last_error == "had this issue's stories in another issue"
    # A second breaking email about the wall that day reaches only who has not had it.
    again = special.create(runtime, special.SpecialDraft("breaking", post_url=_url("the-wall")))
    assert set(_sent(runtime, again.issue_id)) == {"asylum@example.net"}


def test_sender_processes_keep_the_receipts_rule(settings: Settings, smtp: SmtpServer) -> None:
    """`digest send` runs one sender per core: the rule is planned before any of them starts."""
    runtime = _world(settings.model_copy(update={"smtp_url": smtp.url}))
    breaking = special.create(
        runtime,
        special.SpecialDraft("breaking", topics=("border-enforcement",), post_url=_url("the-wall")),
    )
    _sent(runtime, breaking.issue_id)
    with runtime.sessions.begin() as session:
        weekly_id = build_issue(session, runtime.settings, NOW).issue_id
    assert weekly_id is not None
    review.send_now(runtime, weekly_id, "pub@example.org")
    result = send(runtime, weekly_id, processes=2).result
    assert result is not None
    assert result.crashed == ()
    mailed = {r.recipients[0]: message_from_bytes(r.data) for r in smtp.received}
    assert set(mailed) == {"all@example.net", "asylum@example.net"}
    assert "The Court" in _html(mailed["all@example.net"])
    assert "The Wall" not in _html(mailed["all@example.net"])
    runtime.close()


def test_the_next_week_the_story_comes_only_to_who_has_not_had_it(
    runtime: Runtime, settings: Settings
) -> None:
    breaking = special.create(
        runtime,
        special.SpecialDraft("breaking", topics=("border-enforcement",), post_url=_url("the-wall")),
    )
    _sent(runtime, breaking.issue_id)
    later = Runtime.build(settings, clock=FixedClock(NOW + timedelta(days=4)))
    with later.sessions.begin() as session:
        weekly_id = build_issue(session, later.settings, NOW + timedelta(days=4)).issue_id
    assert weekly_id is not None
    mailed = _sent(later, weekly_id)
    # Border's reader had the wall and nothing else is theirs; all-topics gets the court only.
    assert set(mailed) == {"all@example.net", "asylum@example.net"}
    assert "The Wall" not in _html(mailed["all@example.net"])
    assert "The Court" in _html(mailed["all@example.net"])
    later.close()


def test_a_failed_delivery_gives_its_stories_back(settings: Settings, smtp: SmtpServer) -> None:
    """Whoever's breaking email never arrived has no receipt for its story."""
    runtime = _world(settings.model_copy(update={"smtp_url": smtp.url}))
    breaking = special.create(runtime, special.SpecialDraft("breaking", post_url=_url("the-wall")))
    smtp.faults.rcpt_replies = {"border@example.net": "550 5.1.1 No such user"}
    review.send_now(runtime, breaking.issue_id, "pub@example.org")
    send(runtime, breaking.issue_id)
    with runtime.sessions() as session:
        failed = session.query(Delivery).filter_by(issue_id=breaking.issue_id).all()
        assert {d.status for d in failed} == {DeliveryStatus.SENT, DeliveryStatus.FAILED}
        receipts = session.query(StoryReceipt).filter_by(issue_id=breaking.issue_id).all()
        border = session.scalar(
            select(Subscriber.id).where(Subscriber.email == "border@example.net")
        )
    assert len(receipts) == 2
    assert border not in {r.subscriber_id for r in receipts}
    runtime.close()


def test_a_special_draft_is_never_sent_by_auto_send_nor_held(settings: Settings) -> None:
    auto = settings.model_copy(
        update={"digest": settings.digest.model_copy(update={"auto_send": True})}
    )
    runtime = Runtime.build(auto, clock=FixedClock(NOW))
    migrate.upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        factories.add_topics(session, runtime.settings, NOW)
    made = special.create(
        runtime, special.SpecialDraft("appeal", subject="Hello", body_markdown="Dear readers")
    )
    runtime.clock = FixedClock(NOW + timedelta(days=8))  # past any weekly send slot
    with runtime.sessions() as session:
        decided = decide(session, runtime.settings, runtime.clock.now())
    assert decided.approve == []
    assert decided.hold == []
    assert decided.send == []
    with runtime.sessions() as session:
        issue = session.get(Issue, made.issue_id)
        assert issue is not None
        assert issue.status == IssueStatus.DRAFT
    runtime.close()
