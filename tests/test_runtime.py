"""The runtime wires the mail transport once: every sender asks runtime.transport() for one."""

from __future__ import annotations

from collections.abc import Sequence
from email import policy
from email.parser import BytesParser

from newsletter.mail.transport import OutboxTransport, SmtpTransport
from newsletter.models import IssueStatus
from newsletter.pipeline.review import send_test
from newsletter.runtime import Runtime
from subscribers.tokens import Purpose, read_token
from tests import factories


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[Sequence[str], bytes]] = []
        self.closed = 0

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> None:
        self.sent.append((list(recipients), message))

    def close(self) -> None:
        self.closed += 1


def test_the_transport_is_the_outbox_unless_smtp_is_set(runtime: Runtime) -> None:
    outbox = runtime.transport()
    assert isinstance(outbox, OutboxTransport)
    assert outbox.folder == runtime.settings.var_dir / "outbox"
    runtime.settings = runtime.settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:2525"})
    assert isinstance(runtime.transport(), SmtpTransport)


def test_a_test_send_goes_through_the_runtime_transport_signed_with_its_key(
    runtime: Runtime,
) -> None:
    now = runtime.clock.now()
    html, text = factories.variant_text("everything")
    with runtime.sessions.begin() as session:
        issue = factories.issue(
            now, status=IssueStatus.DRAFT, variants=[factories.variant(now, html, text)]
        )
        session.add(issue)
        session.flush()
        issue_id = issue.id
    recorder = Recorder()
    runtime.transport = lambda: recorder  # type: ignore[method-assign]
    send_test(runtime, issue_id, ["ed@example.org"])
    assert [recipients for recipients, _ in recorder.sent] == [["ed@example.org"]]
    assert recorder.closed == 1
    message = BytesParser(policy=policy.default).parsebytes(recorder.sent[0][1])
    unsubscribe = str(message["List-Unsubscribe"]).split("token=")[1].split(">")[0]
    token = read_token(runtime.verification_keys, Purpose.UNSUBSCRIBE, unsubscribe, now=now)
    assert token.belongs_to("ed@example.org")
