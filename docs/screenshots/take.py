"""Retake the README's screenshots from a running `make run` (Playwright + Debian's chromium).

It creates one breaking-news draft in the demo's database (special issues: its form and email).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
HERE = Path(__file__).resolve().parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        # The public face: the home page on a desktop, a topic page on a phone.
        page.goto(f"{BASE}/")
        page.screenshot(path=HERE / "home.png")
        phone = browser.new_page(viewport={"width": 375, "height": 812})
        phone.goto(f"{BASE}/topics/border-enforcement")
        phone.screenshot(path=HERE / "topic-phone.png")
        page.goto(f"{BASE}/admin/login")
        page.fill("input[name=email]", "editor@demo.example.org")
        page.fill("input[name=password]", "demo-editor-password")
        page.click("button[type=submit]")
        page.goto(f"{BASE}/admin/issues")
        page.click("tr[data-issue] a[href^='/admin/issues/']")
        page.screenshot(path=HERE / "preview.png")
        # The issue editor, scrolled to its stories, the address field and the blocks.
        page.click("a[href$='/edit']")
        page.locator("#stories-heading").scroll_into_view_if_needed()
        page.screenshot(path=HERE / "issue-editor.png")
        page.go_back()
        frame = page.locator("iframe").first.get_attribute("src")
        digest = browser.new_page(viewport={"width": 700, "height": 1400})
        digest.context.add_cookies(page.context.cookies())
        digest.goto(f"{BASE}{frame}")
        digest.screenshot(path=HERE / "digest.png")
        # A special issue: breaking news from the newest post, for one topic's readers.
        page.goto(f"{BASE}/admin/issues/new")
        page.check("input[name=topics][value=border-enforcement]")
        page.fill("#intro_markdown", "Our reporter was at the border this morning.")
        page.screenshot(path=HERE / "special-new.png", full_page=True)
        page.click("#special-form button[type=submit]")
        page.wait_for_selector("#kind")
        frame = page.locator("iframe").first.get_attribute("src")
        digest.goto(f"{BASE}{frame}")
        digest.screenshot(path=HERE / "special-breaking.png")
        phone.context.add_cookies(page.context.cookies())
        phone.goto(f"{BASE}/admin/issues/new?kind=appeal")
        phone.screenshot(path=HERE / "special-appeal-phone.png")
        browser.close()


if __name__ == "__main__":
    main()
