"""GET /metrics: read by Prometheus' own parser; figures from the database and this process."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from newsletter.models import Delivery, DeliveryStatus, IssueStatus, Source
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests import factories
from tests.smtpd import SmtpServer
from tests.web.test_subscription import NOW, confirm_path, csrf_of, signup
from tests.web.test_subscription import site as site

TOKEN = "metrics-token-0123456789"


def _with_token(site: Runtime) -> TestClient:
    web = site.settings.web.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    site.settings = site.settings.model_copy(update={"web": web})
    return TestClient(create_app(site), base_url="https://testserver")


def _scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_metrics_need_the_token_and_are_absent_without_one(site: Runtime) -> None:
    plain = TestClient(create_app(site), base_url="https://testserver")
    assert plain.get("/metrics").status_code == 404
    client = _with_token(site)
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in wrong.text


def test_issues_deliveries_and_sources_come_from_the_database(site: Runtime) -> None:
    with site.sessions.begin() as session:
        paused = factories.issue(NOW, key="2026-W47", status=IssueStatus.PAUSED)
        old = factories.issue(NOW - timedelta(days=60), key="2026-W39", status=IssueStatus.SENT)
        old.sent_at = NOW - timedelta(days=59)
        session.add_all([paused, old])
        session.flush()
        people = [factories.add_subscriber(session, f"r{n}@example.net", NOW) for n in range(4)]
        outcomes = [DeliveryStatus.SENT, DeliveryStatus.SENT, DeliveryStatus.DEFERRED, None]
        for person, outcome in zip(people, outcomes, strict=True):
            for issue in (paused, old):
                session.add(
                    Delivery(
                        issue_id=issue.id,
                        subscriber_id=person.id,
                        status=outcome or DeliveryStatus.PENDING,
                        created_at=NOW,
                    )
                )
        session.add(
            Source(
                name="border-page",
                kind="html",
                created_at=NOW,
                runs_total=7,
                errors_total=2,
                failures_in_row=1,
            )
        )
        name = "border-page"
    found = _scrape(_with_token(site))
    assert found[("newsletter_issues", (("status", "paused"),))] == 1
    assert found[("newsletter_issues", (("status", "sent"),))] == 1
    sent = ("newsletter_deliveries", (("issue", "2026-W47"), ("status", "sent")))
    assert found[sent] == 2
    assert found[("newsletter_deliveries", (("issue", "2026-W47"), ("status", "pending")))] == 1
    # An issue sent two months ago is history, not a gauge to watch.
    assert not any(labels and ("issue", "2026-W39") in labels for _, labels in found)
    assert found[("newsletter_retry_queue", ())] == 1
    assert found[("newsletter_collect_runs_total", (("source", name),))] == 7
    assert found[("newsletter_collect_errors_total", (("source", name),))] == 2
    assert found[("newsletter_source_failures_in_row", (("source", name),))] == 1


def test_feed_answers_signups_and_confirmations_are_counted(
    site: Runtime, smtp: SmtpServer
) -> None:
    client = _with_token(site)
    before = _scrape(client)

    def grew(name: str, labels: tuple[tuple[str, str], ...] = ()) -> float:
        key = (name, labels)
        return _scrape(client)[key] - before.get(key, 0.0)

    first = client.get("/feed.xml")
    assert first.status_code == 200
    again = client.get("/feed.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert grew("newsletter_feed_requests_total", (("status", "200"),)) == 1
    assert grew("newsletter_feed_requests_total", (("status", "304"),)) == 1
    page = TestClient(create_app(site), base_url="https://testserver")
    signup(page, "ana@example.org")
    assert grew("newsletter_signups_total") == 1
    [mail] = smtp.to("ana@example.org")
    path = confirm_path(mail.message)
    token = urlsplit(path).query.removeprefix("token=")
    shown = page.get(path)
    for _ in range(2):  # the second is harmless, and no second confirmation
        page.post("/confirm", data={"token": token, "csrf_token": csrf_of(shown.text)})
    assert grew("newsletter_confirmations_total") == 1
