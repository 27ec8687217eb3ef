"""Time POST /subscribe for new, pending and active addresses: the answers should take as long.

Usage: .venv/bin/python bench/signup.py [ROUNDS]

The form only queues a signup, whatever the address, so the medians should agree to within
noise; before the queue, an active address answered in about half the time of a new one.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from newsletter import migrate
from newsletter.config import load_settings
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from subscribers.manage import confirm
from subscribers.models import Subscriber
from subscribers.signup import signup


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            database_url=f"sqlite:///{folder}/bench.db",
            var_dir=folder,
            subscribers={"rate_limit_per_client": 0, "rate_limit_per_email": 0},
        )
        runtime = Runtime.build(settings)
        migrate.upgrade(runtime.engine)
        now = datetime.now(UTC)
        with runtime.sessions.begin() as session:
            for n in range(rounds):
                signup(session, f"pending{n}@example.org", "", set(), now)
                active = signup(session, f"active{n}@example.org", "", set(), now)
                found = session.get(Subscriber, active.subscriber_id)
                assert found is not None
                confirm(session, found, now)
        client = TestClient(create_app(runtime), base_url="https://testserver")
        page = client.get("/subscribe").text
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match
        timings: dict[str, list[float]] = {"new": [], "pending": [], "active": []}
        for n in range(rounds):
            for kind, samples in timings.items():
                form = {"email": f"{kind}{n}@example.org", "csrf_token": match.group(1)}
                started = time.perf_counter()
                answer = client.post("/subscribe", data=form)
                samples.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.status_code
        runtime.close()
    print(f"POST /subscribe, {rounds} rounds, SQLite, nothing sent on the request path")
    medians = {kind: statistics.median(samples) for kind, samples in timings.items()}
    for kind, samples in timings.items():
        p90 = statistics.quantiles(samples, n=10)[-1] * 1000
        print(f"{kind:8} median {medians[kind] * 1000:.2f} ms, p90 {p90:.2f} ms")
    # The figure that matters: 1.00 means the answer's time tells nothing about the address.
    for kind in ("pending", "active"):
        print(f"{kind}/new median ratio: {medians[kind] / medians['new']:.2f}")


if __name__ == "__main__":
    main()
