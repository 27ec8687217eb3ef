"""Importing subscribers from a CSV in the admin: the CLI's import, its report, queued mail."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from subscribers.models import Status
from tests.smtpd import SmtpServer
from tests.web.admin_helpers import csrf_of, make_editor, sign_in
from tests.web.test_subscription import browser, drain, subscriber
from tests.web.test_subscription import site as site

LIST = (
    b"email,name,topics,member_since\n"
    b"ana@example.org,Ana,asylum,2019\n"
    b"not-an-address,Bob,,2020\n"
    b"cy@example.org,Cy,,2021\n"
)


def _signed_in(site: Runtime, role: Role) -> TestClient:
    make_editor(site, f"{role.value}@example.org", role)
    client = browser(site)
    sign_in(client, f"{role.value}@example.org")
    return client


def _upload(client: TestClient, body: bytes, **form: str) -> Response:
    token = csrf_of(client.get("/admin/subscribers").text)
    return client.post(
        "/admin/subscribers/import",
        data={"csrf_token": token, **form},
        files={"file": ("list.csv", body, "text/csv")},
    )


def _said(answer: Response) -> str:
    """The page's text with its line breaks folded, as a reader sees it."""
    return " ".join(answer.text.split())


def test_an_import_reports_each_row_and_queues_the_confirmations(
    site: Runtime, smtp: SmtpServer
) -> None:
    client = _signed_in(site, Role.PUBLISHER)
    form = client.get("/admin/subscribers/import")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    first = _upload(client, LIST)
    assert first.status_code == 200
    assert "3 rows: <strong>2 imported</strong>, 0 already on the list, 1 rejected" in _said(first)
    assert "line 3:" in first.text
    assert "2 confirmation emails are queued" in first.text
    stored = subscriber(site, "ana@example.org")
    assert stored is not None
    assert (stored.status, stored.attributes) == (Status.PENDING, {"member_since": "2019"})
    assert "by publisher@example.org" in stored.events[0].detail
    drain(site)
    assert len(smtp.to("ana@example.org")) == len(smtp.to("cy@example.org")) == 1
    again = _upload(client, LIST)
    assert "<strong>0 imported</strong>, 2 already on the list" in _said(again)


def test_a_confirmed_import_mails_nobody_and_only_publishers_may_import(
    site: Runtime, smtp: SmtpServer
) -> None:
    editor = _signed_in(site, Role.EDITOR)
    assert _upload(editor, LIST).status_code == 403
    assert subscriber(site, "ana@example.org") is None
    publisher = _signed_in(site, Role.PUBLISHER)
    done = _upload(publisher, LIST, confirmed="true")
    assert "<strong>2 imported</strong>" in done.text
    assert subscriber(site, "cy@example.org").status == Status.ACTIVE  # type: ignore[union-attr]
    drain(site)
    assert smtp.received == []


def test_an_unusable_or_oversized_file_imports_nothing(site: Runtime) -> None:
    site.settings.web.max_import_bytes = 10_000  # the app reads it when it is made
    client = _signed_in(site, Role.PUBLISHER)
    headless = _upload(client, b"\x00\x01binary\xff\n")
    assert headless.status_code == 422
    assert "nothing was imported" in headless.text
    huge = _upload(client, b"email\n" + b"x@example.org\n" * 2000)
    assert huge.status_code == 413
    assert subscriber(site, "x@example.org") is None
