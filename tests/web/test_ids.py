"""Every route with a row id in its path refuses one the id columns cannot hold, before any query:
a number past PostgreSQL's integer reached the driver and came back a server error."""

from __future__ import annotations

import re

from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.web.admin_helpers import csrf_of
from tests.web.test_admin import _route_table
from tests.web.test_api import _admin, make_token
from tests.web.test_subscription import site as site

HUGE = str(2**40)


def test_no_route_takes_an_id_too_large_for_its_column(site: Runtime) -> None:
    client = _admin(site, Role.PUBLISHER)
    token = csrf_of(client.get("/admin/api-tokens").text)
    scopes = ("subscribers:read", "subscribers:write")
    client.headers["Authorization"] = f"Bearer {make_token(client, 'Ids', *scopes)}"
    routes = [
        (path, methods)
        for path, methods in _route_table(create_app(site))
        if re.search(r"\{\w*_id\}", path)
    ]
    assert len(routes) > 20
    answers = {}
    for route_path, methods in routes:
        path = re.sub(r"\{\w+\}", HUGE, route_path)
        for method in methods:
            answer = client.request(method, path, data={"csrf_token": token})
            answers[f"{method} {route_path}"] = answer.status_code
    assert {route: status for route, status in answers.items() if status != 422} == {}
