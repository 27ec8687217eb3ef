"""Built feeds in the database, so every web process serves the same bytes."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.models import FeedDocument

# Readers poll often and feeds repeat their markup: gzip once per stored version, at level 9.
GZIP_LEVEL = 9


@dataclass(frozen=True)
class Document:
    """One stored feed, with its gzip variant made once, when it is loaded into memory."""

    path: str
    media_type: str
    body: bytes
    etag: str
    last_modified: datetime
    # b"" when gzip would not make the body smaller; mtime 0 so every process makes the same bytes.
    gzipped: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        packed = gzip.compress(self.body, GZIP_LEVEL, mtime=0)
        object.__setattr__(self, "gzipped", packed if len(packed) < len(self.body) else b"")

    @property
    def gzip_etag(self) -> str:
        """The gzip variant's own strong validator: the identity ETag with a suffix."""
        return self.etag[:-1] + '-gzip"'


def etag_for(body: bytes) -> str:
    """A strong validator: the bytes' digest, the same in every process that built them."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _document(row: FeedDocument) -> Document:
    return Document(row.path, row.media_type, row.body, row.etag, row.last_modified)


def save(session: Session, path: str, media_type: str, body: bytes, now: datetime) -> bool:
    """Store the bytes for `path`; True when they differ from what was stored."""
    etag = etag_for(body)
    # HTTP dates carry whole seconds; storing them so makes If-Modified-Since exact.
    now = now.replace(microsecond=0)
    row = session.get(FeedDocument, path)
    if row is None:
        try:
            # Two processes can publish a new path at once (`digest send` and the last worker
            # lane, both adding the archive feed): the second insert then fails, in its savepoint
            # alone, and the row the first one stored is updated instead.
            with session.begin_nested():
                session.add(
                    FeedDocument(
                        path=path,
                        media_type=media_type,
                        body=body,
                        etag=etag,
                        last_modified=now,
                        built_at=now,
                    )
                )
            return True
        except IntegrityError:
            row = session.get_one(FeedDocument, path, populate_existing=True)
    row.built_at = now
    if row.etag == etag and row.media_type == media_type:
        return False
    row.media_type, row.body, row.etag, row.last_modified = media_type, body, etag, now
    return True


def load(session: Session, path: str) -> Document | None:
    row = session.get(FeedDocument, path)
    return _document(row) if row is not None else None


def current_etag(session: Session, path: str) -> str | None:
    etag: str | None = session.scalar(select(FeedDocument.etag).where(FeedDocument.path == path))
    return etag


def all_documents(session: Session) -> list[Document]:
    return [_document(row) for row in session.scalars(select(FeedDocument))]


def last_modified_by_path(session: Session) -> dict[str, datetime]:
    rows = session.execute(select(FeedDocument.path, FeedDocument.last_modified))
    return {path: modified for path, modified in rows}
