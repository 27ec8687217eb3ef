"""/healthz: status for anyone; host, process and role only with [web] health_token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from newsletter.runtime import Runtime
from newsletter.schedule import lease
from newsletter.schedule.service import SchedulerService
from newsletter.serve import build_app
from newsletter.web.app import create_app
from newsletter.web.health import NoScheduler

TOKEN = "health-token-0123456789"


@pytest.fixture
def leading(runtime: Runtime) -> Iterator[TestClient]:
    """An app whose scheduler holds the lease, as `newsletter serve` runs it."""
    web = runtime.settings.web.model_copy(update={"health_token": SecretStr(TOKEN)})
    runtime.settings = runtime.settings.model_copy(update={"web": web})
    service = SchedulerService(runtime)
    app = build_app(runtime, service)
    app.state.service = service  # for the assertions below, not read by the app
    with TestClient(app) as client:
        assert service.leading
        yield client


def test_the_public_answer_names_no_host_or_process(leading: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = leading.get("/healthz", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "scheduler": {"running": True}}


def test_the_operator_token_shows_the_lease_holder(leading: TestClient) -> None:
    body = leading.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    scheduler = body["scheduler"]
    assert scheduler["running"] is True
    assert scheduler["this_process"] == "leading"
    assert scheduler["holder"] == leading.app.state.service.holder  # type: ignore[attr-defined]
    assert "version" in body


def test_without_a_token_setting_nobody_sees_details(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime))
    body = client.get("/healthz", headers={"Authorization": "Bearer "}).json()
    assert body == {"status": "ok", "database": "ok", "scheduler": {"running": False}}


def _with_token(runtime: Runtime) -> Runtime:
    web = runtime.settings.web.model_copy(update={"health_token": SecretStr(TOKEN)})
    runtime.settings = runtime.settings.model_copy(update={"web": web})
    return runtime


def test_a_web_only_process_reports_the_lease_another_holds(runtime: Runtime) -> None:
    now = runtime.clock.now()
    assert lease.take(runtime.sessions, "elsewhere:1:abc", now, timedelta(minutes=1))
    client = TestClient(build_app(_with_token(runtime), None))
    body = client.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert body["scheduler"] == {
        "running": True,
        "holder": "elsewhere:1:abc",
        "until": (now + timedelta(minutes=1)).isoformat(),
        "this_process": "web-only",
    }


def test_healthz_tells_the_status_the_process_set(runtime: Runtime) -> None:
    """/healthz asks app.state.scheduler_status, whatever the scheduler behind it is."""
    standby = NoScheduler(running=True, holder="other:2:def", role="standby")
    app = create_app(_with_token(runtime))
    app.state.scheduler_status = lambda: standby
    body = TestClient(app).get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert body["scheduler"] == {
        "running": True,
        "holder": "other:2:def",
        "until": None,
        "this_process": "standby",
    }
