"""Approve and Send now ask once more with the audience (asked again if it moved); progress."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from newsletter.clock import FixedClock
from newsletter.deliver.state import start
from newsletter.editors.models import Role
from newsletter.mail.transport import MemoryTransport
from newsletter.models import IssueStatus
from newsletter.pipeline.send import send, variant_renderer
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from subscribers.models import Status
from tests import factories
from tests.web.admin_helpers import (
    BUILT,
    csrf_of,
    make_draft,
    make_editor,
    sign_in,
    stored_issue,
)


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime), base_url="https://news.example.org")


def _publisher(runtime: Runtime, client: TestClient) -> tuple[int, str]:
    runtime.clock = FixedClock(BUILT)
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = make_draft(runtime)
    with runtime.sessions.begin() as session:
        for n in range(3):
            session.add(factories.subscriber(f"reader{n}@example.net", BUILT))
        session.add(factories.subscriber("new@example.net", BUILT, status=Status.PENDING))
    sign_in(client, "pub@example.org")
    return issue_id, csrf_of(client.get(f"/admin/issues/{issue_id}").text)


def _status(runtime: Runtime, issue_id: int) -> IssueStatus:
    return stored_issue(runtime, issue_id).status


def test_send_now_shows_who_receives_it_and_acts_only_on_the_second_post(
    runtime: Runtime, client: TestClient
) -> None:
    issue_id, token = _publisher(runtime, client)
    page = client.get(f"/admin/issues/{issue_id}")
    assert "3</strong> subscribers will receive it; 1 other is not eligible" in page.text
    asked = client.post(f"/admin/issues/{issue_id}/send-now", data={"csrf_token": token})
    assert asked.status_code == 200
    assert "1 unconfirmed." in asked.text
    assert re.search(r'name="audience" value="3"', asked.text)
    assert _status(runtime, issue_id) == IssueStatus.DRAFT  # asking changed nothing
    sent = client.post(
        f"/admin/issues/{issue_id}/send-now",
        data={"csrf_token": token, "audience": "3"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert _status(runtime, issue_id) == IssueStatus.APPROVED


def test_a_count_that_changed_since_it_was_shown_asks_again(
    runtime: Runtime, client: TestClient
) -> None:
    issue_id, token = _publisher(runtime, client)
    asked = client.post(f"/admin/issues/{issue_id}/approve", data={"csrf_token": token})
    assert 'name="audience" value="3"' in asked.text
    assert "It goes out Fri 27 Nov 2026, 10:00 EST" in asked.text  # the next send slot
    with runtime.sessions.begin() as session:
        session.add(factories.subscriber("late@example.net", BUILT))
    again = client.post(
        f"/admin/issues/{issue_id}/approve",
        data={"csrf_token": token, "audience": "3", "send_at": "now"},
    )
    assert again.status_code == 409
    assert "3 then, 4 now" in again.text
    assert 'name="audience" value="4"' in again.text
    assert 'name="send_at" value="now"' in again.text
    assert _status(runtime, issue_id) == IssueStatus.DRAFT
    for forged in ("-1", "three", "9" * 30):
        refused = client.post(
            f"/admin/issues/{issue_id}/send-now", data={"csrf_token": token, "audience": forged}
        )
        assert refused.status_code in (200, 409)
        assert _status(runtime, issue_id) == IssueStatus.DRAFT


def test_the_confirmation_needs_csrf_and_the_publisher_role(
    runtime: Runtime, client: TestClient
) -> None:
    issue_id, _ = _publisher(runtime, client)
    refused = client.post(f"/admin/issues/{issue_id}/send-now", data={"audience": "3"})
    assert refused.status_code == 403
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    editor = TestClient(client.app, base_url="https://news.example.org")
    sign_in(editor, "ed@example.org")
    token = csrf_of(editor.get(f"/admin/issues/{issue_id}").text)
    denied = editor.post(
        f"/admin/issues/{issue_id}/send-now", data={"csrf_token": token, "audience": "3"}
    )
    assert denied.status_code == 403
    assert _status(runtime, issue_id) == IssueStatus.DRAFT


def test_a_send_time_in_the_past_comes_back_beside_the_field(
    runtime: Runtime, client: TestClient
) -> None:
    issue_id, token = _publisher(runtime, client)
    refused = client.post(
        f"/admin/issues/{issue_id}/approve",
        data={"csrf_token": token, "send_at": "2020-01-03T10:00", "audience": "3"},
    )
    assert refused.status_code == 400
    assert 'value="2020-01-03T10:00"' in refused.text
    assert "The send time is in the past." in refused.text
    assert 'aria-describedby="send_at-error"' in refused.text
    assert _status(runtime, issue_id) == IssueStatus.DRAFT


def test_a_sending_issue_shows_progress_and_a_sent_one_its_results(
    runtime: Runtime, client: TestClient
) -> None:
    issue_id, token = _publisher(runtime, client)
    sent = client.post(
        f"/admin/issues/{issue_id}/send-now",
        data={"csrf_token": token, "audience": "3"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    start(runtime, issue_id, variant_renderer(runtime))  # planned and sending, nothing sent
    page = client.get(f"/admin/issues/{issue_id}")
    assert '<progress id="send-progress" max="3" value="0"' in page.text
    assert "/admin/static/admin.js" in page.text
    figures = client.get(f"/admin/issues/{issue_id}/progress.json").json()
    assert (figures["status"], figures["total"], figures["remaining"]) == ("sending", 3, 3)

    memory = MemoryTransport()
    result = send(runtime, issue_id, lambda: memory)
    assert result.result is not None
    assert len(memory.sent) == 3
    figures = client.get(f"/admin/issues/{issue_id}/progress.json").json()
    assert (figures["status"], figures["sent"], figures["remaining"]) == ("sent", 3, 0)
    page = client.get(f"/admin/issues/{issue_id}")
    assert '<span id="result-delivered">3</span> delivered' in page.text
    assert 'href="/archive/2026-W48"' in page.text
    assert "send-progress" not in page.text
    assert client.get("/admin/issues/999/progress.json").status_code == 404


def test_a_refusal_with_nothing_typed_stays_inside_the_admin(
    runtime: Runtime, client: TestClient
) -> None:
    issue_id, token = _publisher(runtime, client)
    refused = client.post(
        f"/admin/issues/{issue_id}/unapprove",
        data={"csrf_token": token},
        headers={"Accept": "text/html"},
    )
    assert refused.status_code == 409
    assert "/admin/static/admin.css" in refused.text
    assert f'href="/admin/issues/{issue_id}" id="back"' in refused.text
    assert "only an approved issue" in refused.text
    assert "Back to the home page" not in refused.text
