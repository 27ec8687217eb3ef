"""The HTML part as text-mode mail clients show it: w3m -dump, as neomutt's mailcap runs it.

w3m reads no CSS, so the hidden preheader is its opening paragraph: it must read as one, with
no padding characters around it, and every story must stand apart from the one before.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from lxml import html as lxml_html

from newsletter.digest.placeholders import Template
from tests.digest.cases import render_case
from tests.digest.mail_checks import demo_values

pytestmark = pytest.mark.skipif(shutil.which("w3m") is None, reason="w3m is not installed")
BRAND = "Demo Immigration News"


def _dump(html: bytes, locale: str) -> list[str]:
    result = subprocess.run(
        ["w3m", "-dump", "-T", "text/html", "-cols", "80", "-I", "UTF-8"],
        input=html,
        capture_output=True,
        timeout=60,
        check=True,
        env={**os.environ, "LANG": locale, "LC_ALL": locale},
    )
    return result.stdout.decode("utf-8", "replace").splitlines()


@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
@pytest.mark.parametrize("case", ["demo", "topic-variant", "quiet"])
def test_the_preheader_is_a_clean_opening_paragraph(case: str, locale: str) -> None:
    html = Template(render_case(case).rendered.html.encode()).fill(demo_values())
    hidden = lxml_html.fromstring(html).xpath("//div[1]")[0].text_content()
    preheader = hidden.translate({0xAD: None, 0x200C: None})  # less its invisible padding
    lines = _dump(html, locale)
    top = lines[: lines.index(BRAND)]
    paragraphs = " ".join(line.strip() for line in top).split()
    # Above the site's name: the preheader's words and nothing else, then a blank line.
    assert paragraphs == preheader.split()
    assert top[-1].strip() == ""
    assert all(line.replace("\xa0", " ").isprintable() for line in top)


@pytest.mark.parametrize("case", ["demo", "hostile"])
def test_a_blank_line_ends_every_story(case: str) -> None:
    html = Template(render_case(case).rendered.html.encode()).fill(demo_values())
    lines = _dump(html, "C.UTF-8")
    # w3m reads no CSS: each "Read more" shows the title it carries for screen readers.
    starts = [index for index, line in enumerate(lines) if line.strip().startswith("Read more")]
    assert len(starts) > 1
    for start in starts:
        end = lines.index("", start)  # the paragraph ends at the first blank line
        paragraph = lines[start:end]
        # Only the link (its title may wrap): the next story's "Topic · date" is not in it.
        assert not any(" · " in line for line in paragraph), paragraph
