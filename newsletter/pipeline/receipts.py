"""A story once per reader: who has one of an issue's stories already gets the issue without it.

The rule, applied when an issue's deliveries are planned (and when the editors' count is made):
a reader with a receipt (newsletter.deliver.receipts) for story P from another issue, sent or
still to go, gets this issue without P: the variant key says so (special.without), so each such
group of readers has a stored variant of its own, and a reader left with nothing is skipped. A
weekly digest after a breaking-news email about P leaves P out of those readers' copies; a
breaking-news email about P after a digest carried it skips the readers who had it; a reader who
moves from a daily digest to the weekly one mid-week gets none of the week's stories twice.
Readers another issue never reached (another topic, past its story cap) are not affected: a
receipt is written only for what each reader's own copy showed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from newsletter.deliver.plan import RecipientKeys
from newsletter.deliver.receipts import had
from newsletter.digest.special import without
from newsletter.models import Issue
from subscribers.audience import Recipient


def receipt_keys() -> RecipientKeys:
    """The variant key of each recipient who has one of the issue's stories from elsewhere."""

    def keys(session: Session, issue: Issue, recipients: Sequence[Recipient]) -> dict[int, str]:
        order = [entry.post_id for entry in issue.posts if not entry.excluded]
        if not order or not recipients:
            return {}
        found = had(session, [r.id for r in recipients], order, issue.id)
        return {
            r.id: without(r.topic_key, found[r.id], order) for r in recipients if found.get(r.id)
        }

    return keys
