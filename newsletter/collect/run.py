"""The collect stage: for each source, read → normalise → store, and record its health."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import httpx
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from newsletter import catalog
from newsletter.collect import feed, html, wordpress
from newsletter.collect.fetch import Fetcher
from newsletter.collect.guard import origin
from newsletter.collect.item import Harvest, Normalised, RawItem
from newsletter.collect.normalize import Context, normalise, typed_context
from newsletter.collect.store import Outcome, Store, topics_by_slug
from newsletter.config import Settings, SourceSettings
from newsletter.errors import CollectError, EntrySkipped
from newsletter.models import CollectSkip, Source, Topic
from newsletter.runtime import Runtime

log = logging.getLogger(__name__)
PULLED_KINDS = ("feed", "wordpress", "html")


@dataclass
class SourceReport:
    """One source's run, as `newsletter collect` prints it."""

    name: str
    kind: str
    new: int = 0
    updated: int = 0
    duplicate: int = 0
    skipped: int = 0
    errors: int = 0
    warnings: int = 0
    not_modified: bool = False
    error: str | None = None

    def counts(self) -> str:
        text = (
            f"new {self.new}, updated {self.updated}, duplicate {self.duplicate}, "
            f"skipped {self.skipped}, errors {self.errors}"
        )
        if self.warnings:
            text += f", warnings {self.warnings}"
        return text + (" (not modified)" if self.not_modified else "")

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


@dataclass
class CollectReport:
    """What a run changed: the hook for rebuilding feeds ("posts changed")."""

    sources: list[SourceReport] = field(default_factory=list)
    new_post_ids: list[int] = field(default_factory=list)
    updated_post_ids: list[int] = field(default_factory=list)
    topics: set[str] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.new_post_ids or self.updated_post_ids)

    @property
    def failed(self) -> list[SourceReport]:
        return [report for report in self.sources if report.error]


def collect(
    runtime: Runtime,
    names: Sequence[str] = (),
    fetcher: Fetcher | None = None,
    on_source: Callable[[SourceReport], None] | None = None,
) -> CollectReport:
    """Collect every enabled pulled source (or the named ones); one failing source stops none."""
    sources = pulled_sources(runtime, names)
    report = CollectReport()
    own = fetcher is None
    fetcher = fetcher or Fetcher(runtime.settings.collect)
    try:
        for source_id, config in sources:
            source_report = collect_source(runtime, fetcher, source_id, config, report)
            report.sources.append(source_report)
            if on_source is not None:
                on_source(source_report)
    finally:
        if own:
            fetcher.close()
    return report


def pulled_sources(runtime: Runtime, names: Sequence[str] = ()) -> list[tuple[int, SourceSettings]]:
    """The enabled pulled sources in the database (or the named ones, enabled or not).

    The database is where editors change sources; `newsletter init` seeds it from the settings.
    """
    with runtime.sessions() as session:
        stored = {
            source.name: source for source in session.scalars(select(Source).order_by(Source.id))
        }
        for name in names:
            if name not in stored:
                known = ", ".join(stored) or "none in the database; run `newsletter init`"
                raise CollectError(f"no source named {name!r} (sources: {known})")
            if stored[name].kind not in PULLED_KINDS:
                raise CollectError(f"source {name!r} is a push source; its CMS sends posts to us")
        wanted = names or [
            name
            for name, source in stored.items()
            if source.enabled and source.kind in PULLED_KINDS
        ]
        return [(stored[name].id, catalog.config_of(stored[name])) for name in wanted]


def _trusted(settings: Settings, source: Source) -> bool:
    """The operator's hosts (the settings file's sources) may be private; an editor's may not."""
    if source.edited_at is None:
        return True
    return _host(source.url) in {_host(str(c.url)) for c in settings.sources if c.url}


def _host(url: str | None) -> str | None:
    try:
        return origin(url)[0] if url else None
    except (httpx.InvalidURL, UnicodeError):
        return None


def collect_source(
    runtime: Runtime,
    fetcher: Fetcher,
    source_id: int,
    config: SourceSettings,
    report: CollectReport,
) -> SourceReport:
    result = SourceReport(config.name, config.kind)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        source = session.get_one(Source, source_id)
        state = (source.url or "", source.etag, source.last_modified, source.modified_after)
        trusted = _trusted(runtime.settings, source)
    try:
        with fetcher.source(state[0], trusted=trusted):
            harvest = read(fetcher, config, runtime.settings, state)
    except CollectError as exc:
        return _failed(runtime, source_id, result, now, _one_line(str(exc)))
    except Exception as exc:  # one hostile source must not stop the others
        return _failed(runtime, source_id, result, now, _unexpected(config.name, "reading", exc))
    try:
        with runtime.sessions.begin() as session:
            source = session.get_one(Source, source_id)
            session.execute(delete(CollectSkip).where(CollectSkip.source_id == source_id))
            topics = topics_by_slug(session)
            posts = normalise_all(
                session, harvest, config, runtime.settings, now, result, source, topics
            )
            store_all(session, source, posts, now, runtime.settings, result, report, topics)
            _remember(source, harvest, now, result)
    except SQLAlchemyError as exc:
        log.exception("storing posts of %s failed", config.name)
        return _failed(runtime, source_id, result, now, f"database error: {exc.__class__.__name__}")
    except Exception as exc:  # as above: record it on the source, go on
        return _failed(runtime, source_id, result, now, _unexpected(config.name, "storing", exc))
    return result


def _unexpected(name: str, doing: str, exc: BaseException) -> str:
    """One line for a failure no parser foresaw; the traceback goes to the debug log only."""
    log.debug("%s failed while %s", name, doing, exc_info=exc)
    if isinstance(exc, RecursionError):
        return f"unreadable: nested too deeply while {doing} its posts"
    return _one_line(f"unexpected {type(exc).__name__} while {doing} its posts: {exc}")


def _ref(raw: RawItem) -> str:
    try:
        return raw.ref()
    except TypeError:  # the very fields ref() reads were of the wrong type
        return "(unreadable entry)"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:2000]


def read(
    fetcher: Fetcher,
    config: SourceSettings,
    settings: Settings,
    state: tuple[str, str | None, str | None, datetime | None],
) -> Harvest:
    url, etag, last_modified, modified_after = state
    if config.kind == "feed":
        return feed.read(fetcher, url, etag, last_modified)
    if config.kind == "wordpress":
        return wordpress.read(fetcher, url, modified_after, settings.collect.wordpress_per_page)
    if config.kind == "html":
        pages = config.max_pages or settings.collect.max_pages
        return html.read(fetcher, url, etag, last_modified, config.selectors, pages)
    raise CollectError(f"source {config.name!r}: {config.kind} sources are not read by collect")


def normalise_all(
    session: Session,
    harvest: Harvest,
    config: SourceSettings,
    settings: Settings,
    now: datetime,
    result: SourceReport,
    source: Source,
    topics: Mapping[str, Topic],
) -> list[Normalised]:
    ctx = context(settings, config, harvest.base_url, now, topics)
    posts: list[Normalised] = []
    for where, why in harvest.problems:
        result.errors += 1
        session.add(CollectSkip(source_id=source.id, at=now, ref=where[:2000], reason=why))
    for position, raw in enumerate(harvest.items):
        try:
            posts.append(normalise(raw, ctx, position))
        except EntrySkipped as exc:
            result.skipped += 1
            session.add(CollectSkip(source_id=source.id, at=now, ref=raw.ref(), reason=str(exc)))
        except (TypeError, AttributeError, ValueError, RecursionError) as exc:
            # The parsers hand over strings; this is the net for a value one of them missed.
            log.debug("entry %d of %s", position, config.name, exc_info=exc)
            result.skipped += 1
            why = f"unreadable entry ({type(exc).__name__})"
            session.add(CollectSkip(source_id=source.id, at=now, ref=_ref(raw), reason=why))
    return posts


def store_all(
    session: Session,
    source: Source,
    posts: list[Normalised],
    now: datetime,
    settings: Settings,
    result: SourceReport,
    report: CollectReport,
    topics: Mapping[str, Topic],
) -> None:
    store = Store(session, source.id, now, announce_cutoff(settings, now), topics)
    store.preload(posts)
    outcomes = [store.put(post) for post in posts]
    store.finish()
    for outcome, stored in outcomes:
        result.count(outcome)
        if outcome is Outcome.NEW:
            report.new_post_ids.append(stored.id)
        elif outcome is Outcome.UPDATED:
            report.updated_post_ids.append(stored.id)
    report.topics |= store.changed_topics


@dataclass(frozen=True)
class Accepted:
    """What storing one pushed post did, and the topics whose feeds it changed."""

    outcome: Outcome
    post_id: int
    topics: frozenset[str]


def accept(runtime: Runtime, source_name: str, raw: RawItem) -> Accepted:
    """Store one pushed post through the same normalise/store path as pulled ones."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        source = session.scalars(select(Source).where(Source.name == source_name)).first()
        if source is None:
            raise CollectError(
                f"source {source_name!r} is not in the database; run `newsletter init`"
            )
        config = catalog.config_of(source)
        base = str(config.url) if config.url else runtime.settings.site.base_url + "/"
        topics = topics_by_slug(session)
        post = normalise(raw, context(runtime.settings, config, base, now, topics))
        store = Store(session, source.id, now, announce_cutoff(runtime.settings, now), topics)
        store.preload([post])
        outcome, stored = store.put(post)
        store.finish()
        source.last_run_at = source.last_success_at = now
        return Accepted(outcome, stored.id, frozenset(store.changed_topics))


def context(
    settings: Settings,
    config: SourceSettings,
    base_url: str,
    now: datetime,
    topics: Mapping[str, Topic],
) -> Context:
    # A page an editor typed in is read the same way, with no source's default topics.
    typed = typed_context(settings, base_url, now, frozenset(topics))
    return replace(typed, default_topics=tuple(config.topics))


def announce_cutoff(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(days=settings.collect.backfill_days)


def _remember(source: Source, harvest: Harvest, now: datetime, result: SourceReport) -> None:
    result.not_modified = harvest.not_modified
    source.etag, source.last_modified = harvest.etag, harvest.last_modified
    if harvest.cursor is not None and not harvest.problems:
        source.modified_after = harvest.cursor
    source.last_run_at = source.last_success_at = now
    source.failures_in_row = 0
    source.runs_total = (source.runs_total or 0) + 1
    source.last_error = "; ".join(why for _where, why in harvest.problems)[:2000] or None
    source.last_error_at = now if harvest.problems else source.last_error_at
    if not harvest.not_modified:  # an unchanged document is as untidy as it was
        result.warnings = len(harvest.warnings)
        source.last_warning = "; ".join(harvest.warnings)[:2000] or None
        source.last_warning_at = now if harvest.warnings else source.last_warning_at
    source.last_summary = result.counts()


def _failed(
    runtime: Runtime, source_id: int, result: SourceReport, now: datetime, message: str
) -> SourceReport:
    """The source is skipped with its reason recorded; what it stored before is untouched."""
    result.errors += 1
    result.error = message
    with runtime.sessions.begin() as session:
        source = session.get_one(Source, source_id)
        source.last_run_at = source.last_error_at = now
        source.failures_in_row = (source.failures_in_row or 0) + 1
        source.runs_total = (source.runs_total or 0) + 1
        source.errors_total = (source.errors_total or 0) + 1
        source.last_error = message[:2000]
        source.last_summary = result.counts()
        session.execute(delete(CollectSkip).where(CollectSkip.source_id == source_id))
        session.add(CollectSkip(source_id=source_id, at=now, ref=source.url or "", reason=message))
    return result
