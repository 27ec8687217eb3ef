"""Which readers each kind of issue is for: the cadence its recipients chose, if any."""

from __future__ import annotations

from newsletter.models import IssueKind
from subscribers.models import Cadence

_CADENCES = {
    IssueKind.WEEKLY.value: Cadence.WEEKLY,
    IssueKind.DAILY.value: Cadence.DAILY,
    IssueKind.STORY.value: Cadence.EACH,
}
# Kinds that carry a list of stories, each reader the ones of their topics at the cadence: the
# digest's layout and templates. The others (special issues) go to their audience whole.
DIGESTS = tuple(_CADENCES)


def cadence_of(kind: str) -> Cadence | None:
    """The cadence an issue of `kind` goes to: its readers' topics of that cadence only.

    None for special issues (breaking news, appeals), which reach every reader of their
    audience, whatever each chose.
    """
    return _CADENCES.get(kind)
