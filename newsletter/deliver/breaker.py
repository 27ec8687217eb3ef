"""The failure breaker: a relay that refuses everything pauses the issue instead of failing it.

Failures that are not about one address (policy refusals such as 554 5.7.1, 421, 451, a relay
or outbox that cannot be reached) are held back while they come in a row. A success or a
recipient's own refusal (5.1.x, 5.2.x) ends the run of them, and they are recorded as usual;
once `limit` of them come in a row the breaker trips: the sender pauses the issue and leaves the
held deliveries pending, so that a resume sends them.
"""

from __future__ import annotations

from newsletter.deliver.store import Outcome
from newsletter.errors import DeliveryError


class Breaker:
    """Holds failures that may be the relay's; trips after `limit` of them in a row."""

    def __init__(self, limit: int, issue_id: int) -> None:
        self.limit = max(1, limit)
        self.issue_id = issue_id
        self.held: list[Outcome] = []
        self.reason: str | None = None  # set once tripped: why the issue pauses

    def take(self, outcome: Outcome) -> list[Outcome]:
        """What to record now: nothing while such failures run on, else the held ones and this."""
        error = outcome.error
        if error is not None and not recipient_refused(error):
            self.held.append(outcome)
            if self.reason is None and len(self.held) >= self.limit:
                self.reason = (
                    f"paused after {len(self.held)} failures in a row from the mail server, "
                    f"none about one recipient (last: {error}); those deliveries stay pending: "
                    "fix the relay or outbox, then run "
                    f"`newsletter digest send {self.issue_id}` to resume"
                )
            return []
        # The relay delivered, or refused one address: it works, so what it refused before
        # was refused for those recipients.
        return [*self.settle(), outcome]

    def settle(self) -> list[Outcome]:
        """The held failures to record as usual; none once tripped (they stay pending)."""
        held, self.held = self.held, []
        return [] if self.reason is not None else held


def recipient_refused(error: DeliveryError) -> bool:
    """A refusal of one address (5.1.x, 5.2.x, 4.2.x) says the relay itself is working."""
    return bool(error.enhanced and error.enhanced[2:4] in ("1.", "2."))
