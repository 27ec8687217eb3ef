"""The edit form of a draft read into one checked choice, or one error naming its field."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.datastructures import FormData

from newsletter.models import Issue, IssuePost

LIMIT = 500  # characters of subject and preheader, as the columns hold
# An override's field: its column, and the most characters the column (or a teaser) holds.
OVERRIDES = {"title": 500, "teaser": 2000, "image_url": 2000, "image_alt": 500}


class FormError(ValueError):
    """One thing wrong with the form: the field's name and a sentence for the editor."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Row:
    """One story as the form shows it: the post's own words, and this issue's overrides."""

    post_id: int
    title: str
    teaser: str
    topics: tuple[str, ...]  # the topics' names, as readers see them
    included: bool
    featured: bool
    image_url: str = ""
    overrides: dict[str, str] = field(default_factory=dict)  # OVERRIDES key: the issue's value
    by_hand: bool = False  # added to the issue by its address, not collected


@dataclass(frozen=True)
class Choice:
    """What the editor asked for: the fields, and the stories in their order."""

    subject: str = ""
    preheader: str = ""
    intro_markdown: str = ""
    donate_enabled: bool = True
    rows: tuple[Row, ...] = field(default_factory=tuple)

    @property
    def featured(self) -> int | None:
        return next((row.post_id for row in self.rows if row.featured), None)


def _row(entry: IssuePost, included: bool, featured: bool, overrides: dict[str, str]) -> Row:
    post = entry.post
    names = tuple(topic.name for topic in post.topics)
    return Row(
        post.id,
        post.title,
        post.teaser,
        names,
        included,
        featured,
        post.image_url or "",
        overrides,
        post.added_by is not None,
    )


def _stored_overrides(entry: IssuePost) -> dict[str, str]:
    found = {name: getattr(entry, f"{name}_override") for name in OVERRIDES}
    return {name: value for name, value in found.items() if value is not None}


def stored(issue: Issue) -> Choice:
    """The issue as saved (its posts and their topics loaded)."""
    return Choice(
        issue.subject,
        issue.preheader,
        issue.intro_markdown,
        issue.donate_enabled,
        tuple(_row(e, not e.excluded, e.featured, _stored_overrides(e)) for e in issue.posts),
    )


def _typed_overrides(form: FormData, entry: IssuePost) -> dict[str, str]:
    """The override fields as typed for this story; a blank or the post's own value is none."""
    if str(form.get("reset", "")) == str(entry.post_id):
        return {}
    post = entry.post
    own = {"title": post.title, "teaser": post.teaser, "image_url": post.image_url or ""}
    typed: dict[str, str] = {}
    for name in OVERRIDES:
        value = str(form.get(f"{name}_{entry.post_id}", "")).strip()
        if value and value != own.get(name):
            typed[name] = value
    return typed


def _override_problem(name: str, value: str) -> str | None:
    if len(value) > OVERRIDES[name]:
        return f"This holds at most {OVERRIDES[name]} characters."
    if name == "image_url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "The image must be a web address starting with https:// (or http://)."
    return None


def _ints(form: FormData, name: str) -> set[int]:
    return {
        int(value) for value in form.getlist(name) if isinstance(value, str) and value.isdigit()
    }


def _ordered(issue: Issue, form: FormData) -> list[IssuePost]:
    """The stories in the order the form gives (`position_<id>`), then one `move` applied."""

    def wanted(entry: IssuePost) -> tuple[int, int]:
        raw = str(form.get(f"position_{entry.post_id}", ""))[:9]
        return (int(raw) if raw.lstrip("-").isdigit() else entry.position, entry.position)

    ordered = sorted(issue.posts, key=wanted)
    direction, _, ident = str(form.get("move", "")).partition(":")
    index = next((i for i, e in enumerate(ordered) if str(e.post_id) == ident), None)
    if index is not None and direction in ("up", "down"):
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
    return ordered


def read(issue: Issue, form: FormData) -> Choice:
    """The form as a Choice in the editor's order; FormError (with the Choice typed) if wrong."""
    included = _ints(form, "include")
    featured_value = str(form.get("featured", ""))
    featured = int(featured_value) if featured_value.isdigit() else None
    choice = Choice(
        str(form.get("subject", "")).strip(),
        str(form.get("preheader", "")).strip(),
        str(form.get("intro_markdown", "")),
        form.get("donate_enabled") == "on",
        tuple(
            _row(e, e.post_id in included, e.post_id == featured, _typed_overrides(form, e))
            for e in _ordered(issue, form)
        ),
    )
    for name in ("subject", "preheader"):
        if len(getattr(choice, name)) > LIMIT:
            raise Typed(choice, FormError(name, f"The {name} holds at most {LIMIT} characters."))
    for row in choice.rows:
        for name, value in row.overrides.items():
            problem = _override_problem(name, value)
            if problem is not None:
                raise Typed(choice, FormError(f"{name}_{row.post_id}", problem))
    if featured is not None and featured not in included:
        message = "The featured story must be one of the included stories."
        raise Typed(choice, FormError("featured", message))
    return choice


class Typed(FormError):
    """A FormError carrying what was typed, so the form comes back as the editor left it."""

    def __init__(self, choice: Choice, error: FormError) -> None:
        super().__init__(error.field, error.message)
        self.choice = choice


def write(issue: Issue, choice: Choice) -> None:
    """Write a checked Choice into the issue: fields, which posts, their order, the featured one."""
    issue.subject = choice.subject
    issue.preheader = choice.preheader
    issue.intro_markdown = choice.intro_markdown
    issue.donate_enabled = choice.donate_enabled
    entries = {entry.post_id: entry for entry in issue.posts}
    for position, row in enumerate(choice.rows):
        entry = entries[row.post_id]
        entry.position = position
        entry.excluded = not row.included
        entry.featured = row.featured
        for name in OVERRIDES:
            setattr(entry, f"{name}_override", row.overrides.get(name))
    issue.featured_post_id = choice.featured
