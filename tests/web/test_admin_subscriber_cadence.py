"""An editor changes each topic's cadence on a subscriber's page: offered ones only, CSRF and
the publisher's role required, recorded on the reader's timeline."""

from __future__ import annotations

import lxml.html
from fastapi.testclient import TestClient

from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from subscribers.models import Cadence
from tests.cadences import every_cadence_settings as every_cadence_settings
from tests.web.admin_helpers import make_editor, sign_in
from tests.web.test_admin_subscribers import _events, _post, _signed_up, cadences_of, selects
from tests.web.test_admin_subscribers import publisher as publisher
from tests.web.test_subscription import browser
from tests.web.test_subscription import site as site


def test_a_publisher_changes_a_topics_cadence_and_it_is_recorded(
    site: Runtime, publisher: TestClient
) -> None:
    ana = _signed_up(site)
    base = f"/admin/subscribers/{ana}"
    page = publisher.get(base).text
    assert selects(page) == {
        "cadence-asylum": ["asylum:weekly", "asylum:weekly", "asylum:daily", "asylum:each"]
    }
    assert '<label for="cadence-asylum">Asylum</label>' in page
    saved = _post(publisher, f"{base}/edit", name="Ana", topics=["asylum"], cadences="asylum:each")
    assert saved.status_code == 303
    assert cadences_of(site, ana) == [Cadence.EACH]
    assert selects(publisher.get(saved.headers["location"]).text)["cadence-asylum"][0] == (
        "asylum:each"
    )
    assert _events(site, ana)[-1] == (
        "changed how often for asylum: each story as it is published (by editor pub@example.org)"
    )


def test_a_bad_cadence_gets_one_error_and_changes_nothing(
    site: Runtime, publisher: TestClient
) -> None:
    ana = _signed_up(site)
    edit = f"/admin/subscribers/{ana}/edit"
    for value, said in (
        ("asylum:hourly", "Unknown frequency &#39;hourly&#39;."),
        ("asylum:" + "x" * 5000, "Unknown frequency &#39;" + "x" * 40 + "&#39;."),
        ("nowhere:daily", "Unknown topic &#39;nowhere&#39;."),
    ):
        refused = _post(publisher, edit, name="Ana B", topics=["asylum"], cadences=value)
        assert refused.status_code == 400, value
        errors = lxml.html.fromstring(refused.text).cssselect("#edited-error")
        assert [e.text_content() for e in errors] == [said.replace("&#39;", "'")], value
        assert "x" * 41 not in refused.text
    assert cadences_of(site, ana) == [Cadence.WEEKLY]
    assert _events(site, ana) == ["signup"]


def test_the_token_and_the_publishers_role_are_needed(site: Runtime, publisher: TestClient) -> None:
    ana = _signed_up(site)
    edit = f"/admin/subscribers/{ana}/edit"
    form = {"name": "Ana", "topics": ["asylum"], "cadences": "asylum:daily"}
    assert publisher.post(edit, data=form, follow_redirects=False).status_code == 403
    make_editor(site, "ed@example.org", Role.EDITOR)
    editor = browser(site)
    sign_in(editor, "ed@example.org")
    assert _post(editor, edit, **form).status_code == 403
    assert "edit-cadences" not in editor.get(f"/admin/subscribers/{ana}").text
    assert cadences_of(site, ana) == [Cadence.WEEKLY]
