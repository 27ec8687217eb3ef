"""An issue built with tracked links, approved and sent over real SMTP: the email a reader gets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from sqlalchemy import select

from newsletter.clicktokens import read_click_token
from newsletter.deliver.send import send_issue
from newsletter.digest.build import build_issue
from newsletter.editors import review
from newsletter.mail.transport import SmtpTransport
from newsletter.models import Issue, IssueLink
from newsletter.pipeline.send import variant_renderer
from newsletter.runtime import Runtime
from tests.factories import add_post, add_subscriber, add_topics
from tests.smtpd import SmtpServer

_HREF = re.compile(r'href="([^"]+)"')


def tracked_links(runtime: Runtime, issue_id: int, html: str) -> dict[str, IssueLink]:
    """The /r/ links in an email's HTML, in order, each once, with the stored link each names."""
    prefix = runtime.settings.site.base_url + "/r/"
    with runtime.sessions() as session:
        stored = {
            link.position: link
            for link in session.scalars(select(IssueLink).where(IssueLink.issue_id == issue_id))
        }
    found = {}
    for href in dict.fromkeys(_HREF.findall(html)):
        if href.startswith(prefix):
            token = href.removeprefix(prefix).split(".")[0]
            click = read_click_token(runtime.verification_keys, token)
            assert click is not None, href
            found[href] = stored[click.position]
    return found


@dataclass(frozen=True)
class Delivered:
    issue_id: int
    subscriber_id: int
    html: str
    text: str

    def tracked(self, base_url: str) -> list[str]:
        """The email's /r/ links, in order, each once."""
        prefix = base_url + "/r/"
        return [href for href in dict.fromkeys(_HREF.findall(self.html)) if href.startswith(prefix)]

    def of_kind(self, runtime: Runtime, kind: str) -> list[str]:
        """The email's /r/ links to stored links of one kind (story, donate, archive, trap)."""
        links = tracked_links(runtime, self.issue_id, self.html)
        return [href for href, link in links.items() if link.kind == kind]


def deliver_issue(
    runtime: Runtime, smtp: SmtpServer, story_url: str | None = None, stories: int = 2
) -> Delivered:
    """Stories published the day before the clock (the first at `story_url` if given), one
    subscriber, the issue built, approved and sent to the SMTP server."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        add_topics(session, runtime.settings, now)
        for number in range(stories):
            post = add_post(session, f"story-{number}", now - timedelta(days=1, hours=number))
            if number == 0 and story_url is not None:
                post.url = story_url
        reader = add_subscriber(session, "reader@example.org", now)
        result = build_issue(session, runtime.settings, now, click_key=runtime.signing_key)
        issue = session.get(Issue, result.issue_id)
        assert issue is not None
        review.approve(issue, "pub@example.org", now, now)
        issue_id, subscriber_id = issue.id, reader.id
    send_issue(
        runtime,
        issue_id,
        lambda: SmtpTransport.from_url(smtp.url, timeout=5),
        render_missing=variant_renderer(runtime),
    )
    (received,) = smtp.to("reader@example.org")
    message = BytesParser(policy=policy.default).parsebytes(received.data)
    assert isinstance(message, EmailMessage)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None
    assert text is not None
    return Delivered(issue_id, subscriber_id, html.get_content(), text.get_content())
