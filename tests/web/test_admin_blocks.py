"""Reusable blocks: kept on /admin/blocks by publishers, placed in a draft from its edit form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from newsletter.clock import FixedClock
from newsletter.digest.build import build_issue
from newsletter.editors.models import Role
from newsletter.models import Block, Issue
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.factories import add_post, add_subscriber, add_topics
from tests.web.admin_helpers import csrf_of, make_editor, sign_in

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
SPONSOR = "Supported by **Example Foundation**. [Learn more](https://foundation.example.org/)"


@pytest.fixture
def built(runtime: Runtime) -> tuple[Runtime, int]:
    runtime.clock = FixedClock(NOW)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        for slug, hours, topic in (("first", 30, "asylum"), ("second", 20, "border-enforcement")):
            add_post(session, slug, NOW - timedelta(hours=hours), [topics[topic]])
        add_subscriber(session, "all@example.org", NOW)
        add_subscriber(session, "border@example.org", NOW, [topics["border-enforcement"]])
        result = build_issue(session, runtime.settings, NOW)
    assert result.issue_id is not None
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    return runtime, result.issue_id


def _client(runtime: Runtime, who: str = "pub@example.org") -> TestClient:
    client = TestClient(create_app(runtime), base_url="https://news.example.org")
    sign_in(client, who)
    return client


def _add_block(
    client: TestClient, runtime: Runtime, name: str, body: str = SPONSOR, kind: str = "sponsor"
) -> int:
    token = csrf_of(client.get("/admin/blocks").text)
    data = {"csrf_token": token, "kind": kind, "name": name, "body": body}
    response = client.post("/admin/blocks", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return _block_id(runtime, name)


def _block_id(runtime: Runtime, name: str) -> int:
    with runtime.sessions() as session:
        return next(b.id for b in session.query(Block) if b.name == name)


def _variants(runtime: Runtime, issue_id: int) -> dict[str, tuple[str, str]]:
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        return {v.topic_key: (v.html, v.text) for v in issue.variants}


def test_publishers_create_edit_and_delete_blocks_sanitised(built: tuple[Runtime, int]) -> None:
    runtime, _ = built
    client = _client(runtime)
    block_id = _add_block(client, runtime, "Spring sponsor", SPONSOR + " <script>alert(1)</script>")
    page = client.get("/admin/blocks").text
    assert "<strong>Example Foundation</strong>" in page
    assert "<script>alert(1)" not in page  # shown as text, never as markup

    token = csrf_of(page)
    same_name = client.post(
        "/admin/blocks",
        data={"csrf_token": token, "kind": "event", "name": "spring SPONSOR", "body": "x"},
    )
    assert same_name.status_code == 422
    assert "already a block named" in same_name.text
    assert 'value="spring SPONSOR"' in same_name.text  # the form keeps what was typed

    changed = client.post(
        f"/admin/blocks/{block_id}",
        data={"csrf_token": token, "kind": "job", "name": "Hiring", "body": "We are hiring."},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    with runtime.sessions() as session:
        block = session.get(Block, block_id)
        assert block is not None
        assert (block.kind, block.name, block.edited_by) == ("job", "Hiring", "pub@example.org")
    bad_kind = client.post(
        f"/admin/blocks/{block_id}",
        data={"csrf_token": token, "kind": "banner", "name": "Hiring", "body": "x"},
    )
    assert bad_kind.status_code == 422
    gone = client.post(f"/admin/blocks/{block_id}/delete", data={"csrf_token": token})
    assert gone.status_code == 200
    assert "No blocks yet" in gone.text


def test_editors_see_blocks_but_only_publishers_change_them(built: tuple[Runtime, int]) -> None:
    runtime, _ = built
    client = _client(runtime, "ed@example.org")
    page = client.get("/admin/blocks")
    assert page.status_code == 200
    assert 'id="block-form"' not in page.text
    data = {"csrf_token": csrf_of(page.text), "kind": "job", "name": "x", "body": "y"}
    assert client.post("/admin/blocks", data=data).status_code == 403


def _edit(client: TestClient, issue_id: int, **fields: str) -> str:
    page = client.get(f"/admin/issues/{issue_id}/edit").text
    data = {"csrf_token": csrf_of(page), "include": [], "featured": "", **fields}
    # The form as the browser sends it: every story included, in the order shown.
    data["include"] = re.findall(r'name="include" value="(\d+)"', page)
    response = client.post(f"/admin/issues/{issue_id}/edit", data=data)
    assert response.status_code == 200, response.text
    return response.text


def test_a_block_is_placed_moved_and_taken_out_and_the_mail_follows(
    built: tuple[Runtime, int],
) -> None:
    runtime, issue_id = built
    client = _client(runtime)
    block_id = _add_block(client, runtime, "Spring sponsor")

    page = _edit(client, issue_id, add_block=str(block_id), add_block_after="1")
    assert 'id="issue-blocks"' in page
    html, text = _variants(runtime, issue_id)[""]
    assert "<strong>Example Foundation</strong>" in html
    # Newest first: after the first story (Second), before the next (First).
    assert text.index("Second") < text.index("SPONSORED") < text.index("First")
    # The border reader's issue has the Second story only: the block still follows it.
    border_text = _variants(runtime, issue_id)["border-enforcement"][1]
    assert "First" not in border_text
    assert border_text.index("Second") < border_text.index("SPONSORED")

    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        row_id = issue.blocks[0].id
    _edit(client, issue_id, block_move=f"up:{row_id}", **{f"block_after_{row_id}": "1"})
    text = _variants(runtime, issue_id)[""][1]
    assert text.index("SPONSORED") < text.index("Second")

    _edit(client, issue_id, block_remove=str(row_id))
    assert "SPONSORED" not in _variants(runtime, issue_id)[""][1]
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        assert issue.blocks == []


def test_a_block_in_a_draft_cannot_be_deleted(built: tuple[Runtime, int]) -> None:
    runtime, issue_id = built
    client = _client(runtime)
    block_id = _add_block(client, runtime, "Town hall", "Town hall, May 12.", "event")
    _edit(client, issue_id, add_block=str(block_id), add_block_after="0")
    token = csrf_of(client.get("/admin/blocks").text)
    refused = client.post(f"/admin/blocks/{block_id}/delete", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "take it out there first" in refused.text
    assert "EVENT" in _variants(runtime, issue_id)[""][1]


def test_a_private_address_is_refused_in_the_form_and_what_was_typed_stays(
    built: tuple[Runtime, int],
) -> None:
    runtime, issue_id = built
    client = _client(runtime)
    page = client.get(f"/admin/issues/{issue_id}/edit").text
    response = client.post(
        f"/admin/issues/{issue_id}/edit",
        data={
            "csrf_token": csrf_of(page),
            "subject": "Kept subject",
            "story_url": "http://10.0.0.7/inside",
            "add_story": "1",
        },
    )
    assert response.status_code == 400
    assert "Not added:" in response.text
    assert "private address" in response.text
    assert 'value="http://10.0.0.7/inside"' in response.text
    assert 'value="Kept subject"' in response.text  # the rest was saved before the address
