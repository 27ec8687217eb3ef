"""/healthz: status for anyone; host, process and role only with [web] health_token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from newsletter.runtime import Runtime
from newsletter.schedule.serve import build_app
from newsletter.schedule.service import SchedulerService
from newsletter.web.app import create_app

TOKEN = "health-token-0123456789"


@pytest.fixture
def leading(runtime: Runtime) -> Iterator[TestClient]:
    """An app whose scheduler holds the lease, as `newsletter serve` runs it."""
    web = runtime.settings.web.model_copy(update={"health_token": SecretStr(TOKEN)})
    runtime.settings = runtime.settings.model_copy(update={"web": web})
    app = build_app(runtime, web_only=False)
    with TestClient(app) as client:
        service: SchedulerService = app.state.scheduler
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
    assert scheduler["holder"] == leading.app.state.scheduler.holder  # type: ignore[attr-defined]
    assert "version" in body


def test_without_a_token_setting_nobody_sees_details(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime))
    body = client.get("/healthz", headers={"Authorization": "Bearer "}).json()
    assert body == {"status": "ok", "database": "ok", "scheduler": {"running": False}}
