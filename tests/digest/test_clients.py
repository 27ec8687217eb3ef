"""Real tools on the real output: SpamAssassin (local rules) and Can I Email data (doiuse-email).

Each test skips only when its tool is not installed; .ci/run installs both.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from newsletter.digest.placeholders import Template
from tests.digest.cases import DATA, case_names, render_case
from tests.digest.mail_checks import demo_values, message

ROOT = Path(__file__).resolve().parents[2]
EMAIL_CHECK = ROOT / "tools" / "email-check"


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="spamassassin is not installed")
@pytest.mark.parametrize("name", ["demo", "topic-variant", "quiet"])
def test_spamassassin_scores_the_digest_at_zero_or_below(name: str) -> None:
    raw = message(render_case(name).rendered)
    result = subprocess.run(
        ["spamassassin", "-L", "-t"], input=raw, capture_output=True, timeout=300, check=True
    )
    report = result.stdout.decode(errors="replace")
    found = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", report, re.MULTILINE)
    assert found, report[:2000]
    details = report[report.find("Content analysis details") :]
    assert float(found.group(1)) <= 0.0, details


def _doiuse_ready() -> bool:
    return (
        shutil.which("node") is not None
        and (EMAIL_CHECK / "node_modules" / "doiuse-email").is_dir()
    )


def _doiuse(page: Path) -> dict[str, list[str]]:
    result = subprocess.run(
        ["node", str(EMAIL_CHECK / "check.mjs"), str(page), "gmail.*,outlook.*"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=EMAIL_CHECK,
    )
    assert result.stdout, result.stderr
    report: dict[str, list[str]] = json.loads(result.stdout)
    return report


@pytest.mark.skipif(
    not _doiuse_ready(), reason="doiuse-email is not installed (npm ci in tools/email-check)"
)
@pytest.mark.parametrize("name", case_names())
def test_gmail_and_outlook_support_everything_the_html_uses(name: str, tmp_path: Path) -> None:
    html = Template(render_case(name).rendered.html.encode()).fill(demo_values())
    page = tmp_path / "digest.html"
    page.write_bytes(html)
    # No exceptions: nothing in the template is dropped by any Gmail or Outlook.
    assert _doiuse(page).get("errors", []) == []


def test_the_hostile_case_holds_an_overlong_url_like_word() -> None:
    """What the check above and the phone test must cope with, in titles, teasers and the intro."""
    case = json.loads((DATA / "hostile" / "posts.json").read_text())
    words = [
        word
        for text in [
            case["intro"],
            *(post["title"] + " " + post["teaser"] for post in case["posts"]),
        ]
        for word in text.split()
    ]
    assert any(len(word) >= 200 and word.startswith("https://") for word in words)


def test_the_checker_does_catch_what_clients_drop(tmp_path: Path) -> None:
    """The check above is only worth something if the checker flags a real problem."""
    if not _doiuse_ready():
        pytest.skip("doiuse-email is not installed")
    page = tmp_path / "bad.html"
    page.write_text(
        "<html><head><style>@media (max-width: 600px) { .a { color: red } }</style></head>"
        '<div style="display:flex">x</div></html>'
    )
    result = subprocess.run(
        ["node", str(EMAIL_CHECK / "check.mjs"), str(page)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=EMAIL_CHECK,
    )
    assert json.loads(result.stdout)["success"] is False
