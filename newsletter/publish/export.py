"""Write every stored feed into a folder for static hosting, each file replaced atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from newsletter.errors import PublishError
from newsletter.publish import store
from newsletter.runtime import Runtime


def write_atomically(target: Path, body: bytes) -> None:
    """Write beside the target, flush to disk, then rename: readers see old bytes or new."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; a web server must read it
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export(runtime: Runtime, folder: Path) -> list[Path]:
    """Every feed (site, topics, archive) under `folder`, at its URL path; returns the files."""
    with runtime.sessions() as session:
        documents = store.all_documents(session)
    written = []
    for document in sorted(documents, key=lambda d: d.path):
        target = folder / document.path.lstrip("/")
        try:
            write_atomically(target, document.body)
            if document.last_modified is not None:
                stamp = document.last_modified.timestamp()
                os.utime(target, (stamp, stamp))  # static servers send it as Last-Modified
        except OSError as exc:
            raise PublishError(f"cannot write {target}: {exc.strerror or exc}") from None
        written.append(target)
    return written
