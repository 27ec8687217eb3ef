"""compose → deliver: a topic set that appeared after rendering is rendered at send time."""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsletter.deliver.plan import RenderVariant
from newsletter.models import Issue, IssueVariant
from newsletter.runtime import Runtime


def variant_renderer(runtime: Runtime) -> RenderVariant:
    """Render and store the variant for a topic set no stored variant covers."""

    def render(session: Session, issue: Issue, topic_key: str) -> IssueVariant | None:
        # The renderer (Jinja, premailer, CSS parsing: 18 MB more) is loaded only when a send
        # meets such a topic set, so a send of a million messages does not carry it otherwise.
        from newsletter.digest.variants import ensure_variant

        return ensure_variant(session, issue, topic_key, runtime.settings, runtime.clock.now())

    return render
