"""Templates: a site's own folder overrides the packaged ones; HTML is escaped, text is not."""

from __future__ import annotations

from pathlib import Path

from newsletter.config import load_settings
from newsletter.templating import environment, packaged_templates


def test_packaged_templates_are_found() -> None:
    assert (packaged_templates() / "web" / "base.html").is_file()


def test_site_folder_overrides_file_by_file(tmp_path: Path) -> None:
    own = tmp_path / "mine" / "web"
    own.mkdir(parents=True)
    (own / "error.html").write_text("ours: {{ message }}")
    env = environment(load_settings(site={"template_dir": str(tmp_path / "mine")}))
    assert env.get_template("web/error.html").render(message="x") == "ours: x"
    # Templates the site does not override still come from the package.
    base = env.get_template("web/base.html").filename
    assert base is not None
    assert Path(base).is_relative_to(packaged_templates())


def test_html_is_autoescaped_and_text_is_not(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("{{ v }}")
    (tmp_path / "t.txt").write_text("{{ v }}")
    env = environment(load_settings(site={"template_dir": str(tmp_path)}))
    assert env.get_template("t.html").render(v="<script>&") == "&lt;script&gt;&amp;"
    assert env.get_template("t.txt").render(v="<script>&") == "<script>&"
