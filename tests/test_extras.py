"""Without the `workers` extra a send runs in-process; a broker or Redis URL names the extra."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime
from tests.deliver.conftest import make_world

# `newsletter ARGS...` in a process where Celery, Kombu and Redis cannot be imported, as after a
# plain `pip install newsletter`.
WITHOUT_WORKERS = """
import sys
from importlib.abc import MetaPathFinder

class Absent(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("celery", "kombu", "redis"):
            raise ImportError(f"No module named {name!r} (the workers extra is not installed)")
        return None

sys.meta_path.insert(0, Absent())
sys.argv = ["newsletter", *sys.argv[1:]]
from newsletter.cli import main
main()
"""
INSTALL = "pip install 'newsletter[workers]'"


def _newsletter(runtime: Runtime, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    settings = runtime.settings
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_WORKERS, *args],
        env={
            **clean,
            "NEWSLETTER_DATABASE_URL": settings.database_url,
            "NEWSLETTER_VAR_DIR": str(settings.var_dir),
            "NEWSLETTER_SITE_URL": "https://news.example.org",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _status(runtime: Runtime, issue_id: int) -> IssueStatus:
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        return issue.status


def test_the_in_process_send_needs_no_celery_or_redis(runtime: Runtime) -> None:
    world = make_world(runtime, count=6)
    sent = _newsletter(runtime, "digest", "send", str(world.issue_id))
    assert sent.returncode == 0, sent.stderr
    assert _status(runtime, world.issue_id) == IssueStatus.SENT
    assert len(list(runtime.settings.outbox_dir.iterdir())) == len(world.eligible)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"NEWSLETTER_BROKER_URL": "redis://127.0.0.1:6379/15"}, "NEWSLETTER_BROKER_URL"),
        ({"NEWSLETTER_REDIS_URL": "redis://127.0.0.1:6379/15"}, "NEWSLETTER_REDIS_URL"),
    ],
    ids=["broker", "redis"],
)
def test_a_broker_or_redis_setting_names_the_extra_and_sends_nothing(
    runtime: Runtime, env: dict[str, str], names: str
) -> None:
    world = make_world(runtime, count=6)
    refused = _newsletter(runtime, "digest", "send", str(world.issue_id), **env)
    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr  # one line, no traceback
    assert names in lines[0]
    assert INSTALL in lines[0]
    assert _status(runtime, world.issue_id) == IssueStatus.APPROVED
    assert not runtime.settings.outbox_dir.exists() or not any(
        runtime.settings.outbox_dir.iterdir()
    )


def test_a_worker_without_celery_names_the_extra(runtime: Runtime) -> None:
    refused = _newsletter(runtime, "worker", NEWSLETTER_BROKER_URL="redis://127.0.0.1:6379/15")
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip().splitlines() == [
        f"error: NEWSLETTER_BROKER_URL is set, but celery is not installed: {INSTALL}"
    ]
