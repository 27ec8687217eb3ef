"""The webhooks screen: add an endpoint (its secret once), read its log, remove it."""

from __future__ import annotations

import re

from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from tests.web.admin_helpers import csrf_of
from tests.web.test_api import _admin
from tests.web.test_subscription import site as site


def test_publishers_add_read_and_remove_endpoints(site: Runtime) -> None:
    assert _admin(site, Role.EDITOR).get("/admin/webhooks").status_code == 403
    admin = _admin(site)
    page = admin.get("/admin/webhooks")
    assert "No endpoints yet." in page.text
    token = csrf_of(page.text)
    bad = admin.post(
        "/admin/webhooks",
        data={"csrf_token": token, "url": "ftp://crm.example/x", "events": ["issue.sent"]},
    )
    assert bad.status_code == 400
    assert 'value="ftp://crm.example/x"' in bad.text  # what was typed stays
    assert 'aria-describedby="webhook-error"' in bad.text
    made = admin.post(
        "/admin/webhooks",
        data={"csrf_token": token, "url": "https://crm.example/hooks", "events": ["issue.sent"]},
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', made.text)
    assert secret is not None
    listed = admin.get("/admin/webhooks").text
    assert "https://crm.example/hooks" in listed
    assert secret.group(1) not in listed
    endpoint = re.search(r'href="/admin/webhooks/(\d+)"', listed)
    assert endpoint is not None
    log = admin.get(f"/admin/webhooks/{endpoint.group(1)}")
    assert "Nothing sent yet." in log.text
    assert admin.get(f"/admin/webhooks/{2**40}").status_code == 422
    admin.post(f"/admin/webhooks/{endpoint.group(1)}/remove", data={"csrf_token": csrf_of(listed)})
    assert "No endpoints yet." in admin.get("/admin/webhooks").text
