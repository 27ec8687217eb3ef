"""The deliverability report: SpamAssassin's score and Can I Email's warnings, when installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# doiuse-email runs from the project's own tool folder (`npm ci` in tools/email-check).
EMAIL_CHECK = Path(__file__).resolve().parents[2] / "tools" / "email-check"
CLIENTS = "gmail.*,outlook.*"
# Findings that hold for every issue because the template chose them, each with its reason; the
# report lists them apart so that editors see only what their issue changes. There are none now:
# overlong words get break opportunities in the text (digest/words.py) instead of CSS table
# layout, which Outlook for Windows ignores.
ACCEPTED: dict[str, str] = {}
_SCORE = re.compile(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", re.MULTILINE)
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]{3,})\s+(.*)$")


@dataclass
class Report:
    spam_score: float | None = None
    spam_rules: list[tuple[float, str, str]] = field(default_factory=list)
    spam_note: str = ""
    client_errors: list[str] = field(default_factory=list)
    client_warnings: list[str] = field(default_factory=list)
    client_note: str = ""
    client_accepted: list[tuple[str, str]] = field(default_factory=list)  # (finding, why)


def spam_check(message: bytes, report: Report) -> None:
    """SpamAssassin with local rules only (no network tests): the score and the rules that hit."""
    program = shutil.which("spamassassin")
    if program is None:
        report.spam_note = "SpamAssassin is not installed (Debian package spamassassin)."
        return
    try:
        # Our own fixed arguments; the message goes in on stdin.
        result = subprocess.run(  # noqa: S603
            [program, "-L", "-t"],
            input=message,
            capture_output=True,
            timeout=120,
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        report.spam_note = f"SpamAssassin did not run: {exc}"
        return
    output = result.stdout.decode("utf-8", "replace")
    found = _SCORE.search(output)
    if found is None:
        report.spam_note = "SpamAssassin gave no score."
        return
    report.spam_score = float(found.group(1))
    details = output[output.find("Content analysis details") :]
    for line in details.splitlines():
        rule = _RULE.match(line)
        if rule:
            report.spam_rules.append((float(rule.group(1)), rule.group(2), rule.group(3).strip()))


def client_check(html: bytes, report: Report) -> None:
    """What Gmail and Outlook would drop from the HTML, from Can I Email's data (offline)."""
    script = EMAIL_CHECK / "check.mjs"
    node = shutil.which("node")
    if node is None or not (EMAIL_CHECK / "node_modules" / "doiuse-email").is_dir():
        report.client_note = "doiuse-email is not installed (npm ci in tools/email-check)."
        return
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "issue.html"
        page.write_bytes(html)
        try:
            result = subprocess.run(  # noqa: S603 (our own script and temporary file)
                [node, str(script), str(page), CLIENTS],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                cwd=EMAIL_CHECK,
            )
            found = json.loads(result.stdout)
        except (subprocess.SubprocessError, OSError, ValueError) as exc:
            report.client_note = f"doiuse-email did not run: {exc}"
            return
    errors = set(found.get("errors", []))
    report.client_errors = sorted(errors - ACCEPTED.keys())
    report.client_accepted = sorted((e, ACCEPTED[e]) for e in errors & ACCEPTED.keys())
    report.client_warnings = sorted(set(found.get("warnings", [])))
