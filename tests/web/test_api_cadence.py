"""The subscriber API with cadences: a topic given as {"slug", "cadence"} or, as before, a slug
(weekly); every subscriber returned with each topic's cadence."""

from __future__ import annotations

import pytest

from newsletter.config import Settings
from newsletter.runtime import Runtime
from tests.cadences import offering_every_cadence
from tests.smtpd import SmtpServer
from tests.web.test_api import _admin, _api, make_token
from tests.web.test_subscription import browser, confirm_path, csrf_of, drain
from tests.web.test_subscription import site as site


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """These tests choose cadences: the publisher offers every one."""
    return offering_every_cadence(settings)


SCOPES = ("subscribers:read", "subscribers:write", "subscribers:import")


def test_create_update_and_get_with_cadences_and_the_old_form(site: Runtime) -> None:
    api = _api(site, make_token(_admin(site), "CRM", *SCOPES))
    added = api.post(
        "/api/v1/subscribers",
        json={
            "email": "ana@example.org",
            "confirmed": True,
            "topics": [{"slug": "asylum", "cadence": "daily"}, "border-enforcement"],
        },
    )
    assert added.status_code == 201, added.text
    ident = added.json()["id"]
    got = api.get(f"/api/v1/subscribers/{ident}").json()
    assert got["topics"] == ["asylum", "border-enforcement"]
    assert got["cadences"] == {"asylum": "daily", "border-enforcement": "weekly"}
    # Only the cadence changes: recorded as such.
    changed = api.patch(
        f"/api/v1/subscribers/{ident}",
        json={"topics": [{"slug": "asylum", "cadence": "each"}, "border-enforcement"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["cadences"] == {"asylum": "each", "border-enforcement": "weekly"}
    # A name alone keeps topics and cadences.
    renamed = api.patch(f"/api/v1/subscribers/{ident}", json={"name": "Ana"})
    assert renamed.json()["cadences"] == {"asylum": "each", "border-enforcement": "weekly"}
    # The old form, a plain list of slugs, means weekly.
    old = api.patch(f"/api/v1/subscribers/{ident}", json={"topics": ["asylum"]})
    assert old.json()["cadences"] == {"asylum": "weekly"}
    listed = api.get("/api/v1/subscribers").json()["items"]
    assert [(p["email"], p["cadences"]) for p in listed] == [
        ("ana@example.org", {"asylum": "weekly"})
    ]
    everyone = api.post(
        "/api/v1/subscribers", json={"email": "bo@example.org", "confirmed": True}
    ).json()["id"]
    assert api.get(f"/api/v1/subscribers/{everyone}").json()["cadences"] == {}
    for wrong in ({"slug": "asylum", "cadence": "hourly"}, {"slug": "asylum", "often": "x"}):
        refused = api.patch(f"/api/v1/subscribers/{ident}", json={"topics": [wrong]})
        assert refused.status_code == 422, refused.text
    details = api.get(f"/api/v1/subscribers/{ident}").json()
    assert details["cadences"] == {"asylum": "weekly"}  # nothing changed by refusals
    with site.sessions() as session:
        from subscribers.models import Subscriber

        person = session.get(Subscriber, ident)
        assert person is not None
        recorded = [event.detail for event in person.events]
    moved = (
        "changed how often for asylum: each story as it is published (by editor API token 'CRM')"
    )
    assert moved in recorded


def test_a_pending_api_signup_keeps_its_cadence_to_confirmation(
    site: Runtime, smtp: SmtpServer
) -> None:
    api = _api(site, make_token(_admin(site), "Donations", *SCOPES))
    new = {"email": "cy@example.org", "topics": [{"slug": "asylum", "cadence": "each"}]}
    assert api.post("/api/v1/subscribers", json=new).status_code == 202
    drain(site)
    [mail] = smtp.to("cy@example.org")
    path = confirm_path(mail.message)
    reader = browser(site, headers={"Accept": "text/html"})
    page = reader.get(path)
    token = path.split("token=")[1]
    reader.post("/confirm", data={"token": token, "csrf_token": csrf_of(page.text)})
    [person] = api.get("/api/v1/subscribers").json()["items"]
    assert (person["status"], person["cadences"]) == ("active", {"asylum": "each"})


def test_the_schema_names_the_cadences(site: Runtime) -> None:
    schema = _api(site, None).get("/api/v1/openapi.json").json()
    cadence = schema["components"]["schemas"]["Cadence"]
    assert cadence["enum"] == ["weekly", "daily", "each"]
    choice = schema["components"]["schemas"]["TopicChoice"]
    assert choice["required"] == ["slug"]
