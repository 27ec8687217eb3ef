"""Digest benchmark: render + inline one variant, then personalise 100,000 messages from it.

Prints each figure beside the naive way measured in the same run (render and premailer per
recipient, timed on a sample and extrapolated per message), and the ratio between them.
Run: .venv/bin/python bench/digest.py [--messages N] [--naive-sample N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newsletter.digest.compose import QUIET, Layout, lay_out, period_ending, plan_issue
from newsletter.digest.placeholders import Template, values_for
from newsletter.digest.render import Edition, Renderer, inline_css
from tests.digest.cases import DATA, story


def _demo() -> tuple[Renderer, Edition, Layout]:
    import json
    from datetime import datetime

    from newsletter.config import load_settings

    raw = json.loads((DATA / "demo" / "posts.json").read_text())
    settings = load_settings(**raw["settings"])
    period = period_ending(datetime.fromisoformat(raw["now"]), settings.zone)
    plan = plan_issue([story(item) for item in raw["posts"]], period)
    layout = lay_out(plan.included, plan.featured_id, "", settings.digest.max_posts) or QUIET
    edition = Edition(key=period.key, period=period, intro_markdown=raw["intro"])
    return Renderer(settings), edition, layout


def recipient(i: int) -> dict[str, str]:
    return {
        "name": f"Reader {i}",
        "email": f"reader{i}@example.org",
        "unsubscribe_url": f"https://demo.example.org/unsubscribe?token=tok{i:08d}.sig",
        "preferences_url": f"https://demo.example.org/preferences?token=tok{i:08d}.sig",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=40)
    parser.add_argument("--renders", type=int, default=20)
    args = parser.parse_args()

    renderer, edition, layout = _demo()
    renderer.render(edition, layout)  # warm up: templates compiled, CSS parser loaded

    start = time.perf_counter()
    for _ in range(args.renders):
        rendered = renderer.render(edition, layout)
    render_ms = (time.perf_counter() - start) * 1000 / args.renders
    print(f"render + inline one variant: {render_ms:.1f} ms ({args.renders} runs)")

    # Once per variant: split the stored parts at their markers.
    html, text = Template(rendered.html.encode()), Template(rendered.text.encode())
    start = time.perf_counter()
    size = 0
    for i in range(args.messages):
        values = values_for(recipient(i))
        size += len(html.fill(values)) + len(text.fill(values))
    fast_s = time.perf_counter() - start
    fast_rate = args.messages / fast_s
    print(
        f"personalise from stored variants: {args.messages:,} messages in {fast_s:.2f} s "
        f"= {fast_rate:,.0f} messages/s on one core (goal ≥ 20,000; {size / args.messages:,.0f} "
        "bytes each)"
    )

    # The naive way: render the templates and run premailer for every recipient.
    start = time.perf_counter()
    for i in range(args.naive_sample):
        context = renderer.context(edition, layout, personal=True)
        context.update(recipient(i))
        context["subject"] = rendered.subject
        page = renderer.env.get_template("email/digest.html").render(context)
        inline_css(page)
        renderer.env.get_template("email/digest.txt").render(context)
    naive_per_message = (time.perf_counter() - start) / args.naive_sample
    naive_rate = 1 / naive_per_message
    print(
        f"naive (render + premailer per recipient), {args.naive_sample} sampled: "
        f"{naive_per_message * 1000:.1f} ms/message = {naive_rate:,.0f} messages/s; "
        f"{args.messages:,} messages would take {naive_per_message * args.messages / 60:,.1f} min"
    )
    print(f"ratio: stored variants are {fast_rate / naive_rate:,.0f}× faster than the naive way")


if __name__ == "__main__":
    main()
