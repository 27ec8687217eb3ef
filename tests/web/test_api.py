"""The subscriber API: tokens made in the admin, scopes, double opt-in, and its OpenAPI schema."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from subscribers.models import Status, Subscriber
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import csrf_of, make_editor, sign_in
from tests.web.test_subscription import confirm_path, drain
from tests.web.test_subscription import site as site


def _admin(site: Runtime, role: Role = Role.PUBLISHER) -> TestClient:
    email = f"{role.value}@example.org"
    make_editor(site, email, role)
    client = TestClient(create_app(site), base_url="https://news.example.org")
    sign_in(client, email)
    return client


def make_token(admin: TestClient, name: str, *scopes: str) -> str:
    """A token made as a publisher makes one: the form, then the page that shows it once."""
    page = admin.get("/admin/api-tokens")
    made = admin.post(
        "/admin/api-tokens",
        data={"csrf_token": csrf_of(page.text), "name": name, "scopes": list(scopes)},
    )
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == "no-store"
    found = re.search(r'id="new-token">(nlk_[^<]+)<', made.text)
    assert found, made.text
    return found.group(1)


def _api(site: Runtime, token: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(create_app(site), base_url="https://news.example.org", headers=headers)


def test_tokens_are_made_by_publishers_shown_once_and_revoked(site: Runtime) -> None:
    editor = _admin(site, Role.EDITOR)
    assert editor.get("/admin/api-tokens").status_code == 403
    admin = _admin(site)
    token = make_token(admin, "CRM", "subscribers:read")
    listed = admin.get("/admin/api-tokens").text
    assert "CRM" in listed
    assert token not in listed  # shown on the answer that made it, never again
    reader = _api(site, token)
    assert reader.get("/api/v1/subscribers").status_code == 200
    # A wrong secret for the same id, a malformed token, none at all.
    for bad in (token[:-4] + "AAAA", "nlk_1", None):
        answer = _api(site, bad).get("/api/v1/subscribers")
        assert answer.status_code == 401, bad
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["error"].startswith("a live API token is needed")
    page = admin.get("/admin/api-tokens")
    token_id = token.split("_")[1]
    admin.post(f"/admin/api-tokens/{token_id}/revoke", data={"csrf_token": csrf_of(page.text)})
    assert reader.get("/api/v1/subscribers").status_code == 401
    assert "revoked" in admin.get("/admin/api-tokens").text
    refused = admin.post(
        "/admin/api-tokens",
        data={"csrf_token": csrf_of(page.text), "name": "  ", "scopes": ["subscribers:read"]},
    )
    assert refused.status_code == 400
    assert "give the token a name" in refused.text


def test_a_write_token_adds_pending_readers_who_get_the_confirmation(
    site: Runtime, smtp: SmtpServer
) -> None:
    admin = _admin(site)
    writer = _api(site, make_token(admin, "Donations", "subscribers:read", "subscribers:write"))
    reader = _api(site, make_token(admin, "Reports", "subscribers:read"))
    new = {"email": "Ana@Example.org", "name": "Ana", "topics": ["asylum"]}
    assert reader.post("/api/v1/subscribers", json=new).status_code == 403
    added = writer.post("/api/v1/subscribers", json=new)
    assert added.status_code == 202, added.text
    assert added.json() == {"status": "pending", "id": None}
    drain(site)
    [mail] = smtp.to("ana@example.org")
    assert confirm_path(mail.message).startswith("/confirm?token=")
    # Confirmed needs the import scope; refused, nothing is added.
    confirmed = {"email": "bo@example.org", "confirmed": True}
    assert writer.post("/api/v1/subscribers", json=confirmed).status_code == 403
    page = reader.get("/api/v1/subscribers").json()
    assert [(p["email"], p["status"], p["topics"]) for p in page["items"]] == [
        ("ana@example.org", "pending", ["asylum"])
    ]
    assert page["next_before"] is None
    assert page["items"][0]["signup_source"] == "API token 'Donations'"


def test_import_edit_and_unsubscribe_are_recorded_with_the_tokens_name(site: Runtime) -> None:
    admin = _admin(site)
    scopes = ("subscribers:read", "subscribers:write", "subscribers:import")
    api = _api(site, make_token(admin, "CRM", *scopes))
    added = api.post("/api/v1/subscribers", json={"email": "bo@example.org", "confirmed": True})
    assert added.status_code == 201, added.text
    ident = added.json()["id"]
    again = api.post("/api/v1/subscribers", json={"email": "bo@example.org", "confirmed": True})
    assert again.status_code == 400
    assert "already subscribed" in again.json()["error"]
    changed = api.patch(f"/api/v1/subscribers/{ident}", json={"topics": ["asylum"], "name": "Bo"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["topics"]) == ("Bo", ["asylum"])
    unknown = api.patch(f"/api/v1/subscribers/{ident}", json={"topics": ["nope"]})
    assert unknown.status_code == 400
    assert "nope" in unknown.json()["error"]
    gone = api.post(f"/api/v1/subscribers/{ident}/unsubscribe")
    assert gone.json()["status"] == Status.UNSUBSCRIBED
    assert api.get("/api/v1/subscribers/999999").status_code == 404
    extra = api.post("/api/v1/subscribers", json={"email": "x@example.org", "admin": True})
    assert extra.status_code == 422
    assert "x@example.org" not in extra.text  # fields named, values never echoed
    with site.sessions() as session:
        person = session.get(Subscriber, ident)
        assert person is not None
        details = [event.detail for event in person.events]
    assert "changed name, topics (by editor API token 'CRM')" in details
    assert "unsubscribed (by editor API token 'CRM')" in details


def test_the_schema_names_the_api_alone(site: Runtime) -> None:
    schema = _api(site, None).get("/api/v1/openapi.json").json()
    assert sorted(schema["paths"]) == [
        "/api/v1/subscribers",
        "/api/v1/subscribers/{subscriber_id}",
        "/api/v1/subscribers/{subscriber_id}/unsubscribe",
    ]
    assert "subscribers:import" in schema["info"]["description"]


def test_no_generated_request_is_a_server_error(site: Runtime) -> None:
    """Every operation, fuzzed with requests schemathesis generates from the schema."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error

    admin = _admin(site)
    scopes = ("subscribers:read", "subscribers:write", "subscribers:import")
    token = make_token(admin, "Fuzz", *scopes)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(site))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
            )

        fuzz()
