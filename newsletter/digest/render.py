"""One variant of an issue rendered: Jinja2 (autoescaped) → premailer, plus its text and subject."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, Template, TemplateError, TemplateSyntaxError
from markupsafe import Markup
from premailer import Premailer

from newsletter.config import Settings
from newsletter.digest import intro as intro_md
from newsletter.digest import intro_text
from newsletter.digest.clicklinks import ARCHIVE, CTA, DONATE, STORY, TRAP, ClickLinks
from newsletter.digest.compose import Layout, Period, Story
from newsletter.digest.links import Tracker
from newsletter.digest.placeholders import MARK, html_marker, marker, scrub
from newsletter.digest.special import LABELS, Cta
from newsletter.digest.text import WIDTH, long_date, rule, shorten, squash, wrap
from newsletter.digest.words import breakable
from newsletter.errors import DigestError
from newsletter.issue_kinds import DIGESTS
from newsletter.templating import environment

_BODY_TAG = re.compile(r"</?body\b[^>]*>\n?")
_ENCODED_MARK = quote(MARK)
_ENCODED_MARK_ANY_CASE = re.compile(re.escape(_ENCODED_MARK), re.IGNORECASE)
FEATURED_TEASER = 360
TEASER = 240
PREHEADER = 140
# Pictures at the width they fill (the 600 px column less its padding) and a card's thumbnail,
# both at 1.91:1, the OpenGraph image's shape: Outlook for Windows sizes by these attributes.
FEATURED_IMAGE = (536, 281)
CARD_IMAGE = (120, 63)
BLOCK_LABELS = {"sponsor": "Sponsored", "event": "Event", "job": "Job"}


@dataclass(frozen=True)
class PlacedBlock:
    """A reusable block in an issue: after how many of the issue's included stories it goes."""

    after_story: int
    kind: str
    name: str
    body_markdown: str


@dataclass(frozen=True)
class Edition:
    """The issue-wide parts every variant shares; empty subject/preheader mean "from templates"."""

    key: str
    period: Period
    subject: str = ""
    preheader: str = ""
    intro_markdown: str = ""
    donate: bool = True
    blocks: tuple[PlacedBlock, ...] = ()
    # The included stories' ids in the issue's order: where a block's after_story counts.
    order: tuple[int, ...] = ()
    # A special issue's kind ("breaking", "appeal"), an appeal's body and its button.
    kind: str = "weekly"
    body_markdown: str = ""
    cta: Cta | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def inline_css(html: str) -> str:
    """premailer, offline and quiet: every rule inlined, then the <style> block and classes dropped.

    Gmail's mobile web client ignores class selectors, so nothing may depend on them. The parser
    adds <body> tags the template leaves out on purpose (see digest.html); they go again here.
    """
    inlined = str(
        Premailer(
            html,
            remove_classes=True,
            keep_style_tags=False,
            disable_validation=True,
            # Outlook sizes images and tables by their pixel attributes, not by CSS percentages.
            disable_basic_attributes=["width", "height"],
            allow_network=False,
            allow_loading_external_files=False,
            cssutils_logging_level=logging.CRITICAL,
        ).transform(pretty_print=False)
    )
    # lxml percent-encodes non-ASCII in href; put the markers back (user text cannot hold these).
    return _BODY_TAG.sub("", inlined).replace(_ENCODED_MARK, MARK)


def safe_image(url: str) -> str:
    """An absolute http(s) picture address, else "" (no data:, javascript: or relative one)."""
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.hostname else ""


def clean(text: str) -> str:
    """User-supplied text scrubbed of markers, raw or percent-encoded as inlining leaves them."""
    return _ENCODED_MARK_ANY_CASE.sub("", scrub(text))


class _Direct:
    """No /r/ rewriting: the link is its target."""

    def __call__(self, kind: str, url: str, post_id: int | None = None) -> str:
        return url


_direct = _Direct()


class Renderer:
    """Renders any variant of any issue for one site's settings and templates."""

    def __init__(self, settings: Settings, env: Environment | None = None) -> None:
        self.settings = settings
        self.env = env or environment(settings)
        self.env.filters["wrap"] = wrap
        self.env.filters["breakable"] = breakable

    def render(
        self,
        edition: Edition,
        layout: Layout,
        *,
        personal: bool = True,
        clicks: ClickLinks | None = None,
    ) -> Rendered:
        """One variant; an empty layout is a quiet week; `personal` False is the web version.

        With `clicks`, story, donate and archive links go through /r/ (a stored variant that
        is mailed); without, they point at their targets (previews, test sends, the archive).
        """
        context = self.context(edition, layout, personal=personal, clicks=clicks)
        # A special issue has templates of its own, which extend the digest's.
        name = "digest" if edition.kind in DIGESTS else "special"
        try:
            subject = squash(self._template(f"{name}_subject.txt").render(context))
            context["subject"] = subject
            html = self._template(f"{name}.html").render(context)
            text = self._template(f"{name}.txt").render(context)
        except TemplateError as exc:
            where = (
                f" ({exc.filename}:{exc.lineno})" if isinstance(exc, TemplateSyntaxError) else ""
            )
            raise DigestError(
                f"issue {edition.key}: the digest template failed{where}: {exc}"
            ) from None
        return Rendered(subject=subject, html=inline_css(html), text=text)

    def _template(self, name: str) -> Template:
        return self.env.get_template(f"email/{name}")

    def context(
        self,
        edition: Edition,
        layout: Layout,
        *,
        personal: bool,
        clicks: ClickLinks | None = None,
    ) -> dict[str, Any]:
        site, org, digest = self.settings.site, self.settings.organization, self.settings.digest
        more_url = str(digest.more_url) if digest.more_url else site.base_url + "/"
        stories = [*([layout.featured] if layout.featured else []), *layout.stories]
        track = Tracker.for_issue(
            edition.key,
            enabled=digest.utm,
            source=digest.utm_source,
            medium=digest.utm_medium,
            campaign=digest.utm_campaign,
            urls=[site.base_url, str(org.donate_url), more_url, *(story.url for story in stories)],
        )
        special = edition.kind not in DIGESTS
        via = clicks if clicks is not None and personal else _direct
        featured = (
            self._card(layout.featured, track, via, FEATURED_TEASER) if layout.featured else None
        )
        cards = [self._card(story, track, via, TEASER) for story in layout.stories]
        intro_source = clean(edition.intro_markdown)
        body_source = clean(edition.body_markdown)
        body_text = intro_text.to_text(body_source, track) if body_source.strip() else ""
        return {
            "site": {
                "name": clean(site.name),
                "url": track(site.base_url + "/"),
                "language": site.language,
            },
            "organization": {"name": clean(org.name), "postal_address": clean(org.postal_address)},
            "donate": {
                "heading": clean(org.donate_heading),
                "text": clean(org.donate_text),
                "button": clean(org.donate_button),
                "url": via(DONATE, track(clean(str(org.donate_url)))),
            }
            if edition.donate
            else None,
            "issue": {
                "key": edition.key,
                "date": long_date(edition.period.end, self.settings.zone),
                "web_url": via(ARCHIVE, track(f"{site.base_url}/archive/{edition.key}")),
            },
            # A link no person sees or hears (see digest.html): whatever opens it is a machine.
            "trap_url": via(TRAP, site.base_url + "/") if via is not _direct else None,
            # A special issue without a story (an appeal) is not a quiet week.
            "quiet": layout.quiet and not special,
            "kind": edition.kind,
            "kind_label": LABELS.get(edition.kind, LABELS["weekly"]),
            # nh3 has sanitised it, as the intro.
            "body_html": Markup(intro_md.to_html(body_source, track))  # noqa: S704
            if body_source.strip()
            else None,
            "body_text": body_text,
            "cta": {
                "label": clean(squash(edition.cta.label)),
                "url": via(CTA, track(clean(edition.cta.url))),
            }
            if edition.cta is not None
            else None,
            "featured": featured,
            "stories": cards,
            "more": {"count": layout.more, "url": track(more_url)} if layout.more else None,
            # Stories besides the first, for the subject line's "and N more".
            "others": max(0, layout.count - 1),
            # nh3 has sanitised it: the one string that reaches the template unescaped.
            "intro_html": Markup(intro_md.to_html(intro_source, track))  # noqa: S704
            if intro_source.strip()
            else None,
            "intro_text": intro_text.to_text(intro_source, track) if intro_source.strip() else "",
            "custom_subject": clean(squash(edition.subject)),
            "preheader": clean(squash(edition.preheader))
            or (shorten(body_text, PREHEADER) if special and body_text and not featured else "")
            or self._preheader(featured, cards),
            "personal": personal,
            "subscribe_url": f"{site.base_url}/subscribe",
            "email_html": html_marker("email"),
            "unsubscribe_html": html_marker("unsubscribe_url"),
            "preferences_html": html_marker("preferences_url"),
            "email_text": marker("email"),
            "unsubscribe_text": marker("unsubscribe_url"),
            "preferences_text": marker("preferences_url"),
            "width": WIDTH,
            "rule": rule(),
            "blocks": self._blocks(edition, [c for c in [featured, *cards] if c], track),
            "featured_image": FEATURED_IMAGE,
            "card_image": CARD_IMAGE,
        }

    def _blocks(
        self, edition: Edition, shown: list[dict[str, Any]], track: Tracker
    ) -> dict[int, list[dict[str, Any]]]:
        """The blocks by slot: slot k goes after the k-th story this variant shows.

        A block set after the issue's n-th story follows the stories this variant shows out of
        the issue's first n, so a topic reader's shorter issue keeps it where it belongs.
        """
        index = {post_id: place for place, post_id in enumerate(edition.order)}
        places = [index.get(card["id"], len(index)) for card in shown]
        slots: dict[int, list[dict[str, Any]]] = {}
        for block in edition.blocks:
            body = clean(block.body_markdown)
            slot = sum(1 for place in places if place < block.after_story)
            slots.setdefault(slot, []).append(
                {
                    "label": BLOCK_LABELS.get(block.kind, ""),
                    # nh3 has sanitised it, as the intro.
                    "html": Markup(intro_md.to_html(body, track)),  # noqa: S704
                    "text": intro_text.to_text(body, track),
                }
            )
        return slots

    def _card(
        self, story: Story, track: Tracker, via: ClickLinks | _Direct, limit: int
    ) -> dict[str, Any]:
        topic = story.topics[0].name if story.topics else ""
        return {
            "id": story.id,
            "title": clean(squash(story.title)),
            "url": via(STORY, track(clean(story.url)), story.id),
            "teaser": clean(shorten(story.teaser, limit)),
            "author": clean(squash(story.author or "")),
            "topic": clean(topic),
            "date": long_date(story.published_at, self.settings.zone),
            "image_url": safe_image(clean(story.image_url or "")),
            "image_alt": clean(squash(story.image_alt or story.title)),
        }

    def _preheader(self, featured: dict[str, Any] | None, cards: list[dict[str, Any]]) -> str:
        """What the inbox shows after the subject: never the subject's own story again.

        The subject names the featured story, else the first one. The preheader is the featured
        story's teaser, else the titles of the stories after the first, else the first's teaser.
        """
        if featured is None and not cards:
            return f"A quiet week at {clean(self.settings.site.name)}."
        lead = featured or cards[0]
        others = cards if featured else cards[1:]
        titles = " · ".join(card["title"] for card in others[:3])
        if (featured and featured["teaser"]) or not titles:
            text = lead["teaser"]
        else:
            text = f"Also: {titles}"
        return shorten(text, PREHEADER)
