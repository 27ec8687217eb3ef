"""CSV rows in, checked records or rejections (with their line numbers) out; no database."""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import BinaryIO, NamedTuple

from subscribers.addresses import AddressChecker
from subscribers.cadences import parse_cadence
from subscribers.cells import restore
from subscribers.errors import (
    ImportFileError,
    InvalidAddress,
    InvalidName,
    UnknownCadence,
    UnknownTopic,
)
from subscribers.models import Cadence
from subscribers.origin import UTM_KEYS
from subscribers.signup import check_name
from subscribers.topics import Topics

# Columns the export adds that an import of that export must not turn into attributes.
EXPORT_ONLY = (
    "status",
    "created_at",
    "confirmed_at",
    "signup_source",
    "signup_referrer",
    *UTM_KEYS,
)
_TOPIC_SPLIT = re.compile(r"[;|,]")
_ALL_WEEKLY: Mapping[int, Cadence] = MappingProxyType({})


def topic_cell(
    topics: Topics, cell: str, offer: Collection[Cadence]
) -> tuple[frozenset[int], Mapping[int, Cadence]] | str:
    """A topics cell ("asylum:daily, border") as the topic ids it names and those not weekly
    with their cadence, or why it is refused; the CLI's --topics reads the same syntax."""
    chosen: set[int] = set()
    cadences: dict[int, Cadence] = {}
    for item in _TOPIC_SPLIT.split(cell):
        slug, _, how_often = item.partition(":")
        try:
            found = topics.ids([slug.lower()])
            cadence = parse_cadence(how_often, offer)
        except UnknownTopic as exc:
            return f"unknown topic {exc.slug!r}"
        except UnknownCadence as exc:
            choices = ", ".join(cadence.value for cadence in offer)
            return f"{exc} for topic {slug.strip()!r} ({choices})"
        chosen |= found
        cadences.update(dict.fromkeys(found, cadence) if cadence != Cadence.WEEKLY else {})
    return frozenset(chosen), MappingProxyType(cadences) if cadences else _ALL_WEEKLY


class Rejection(NamedTuple):
    """A row that was not imported, and why, in words the list owner understands."""

    line: int
    email: str
    reason: str


class Record(NamedTuple):
    """One checked row: a normalised address, a checked name, topic ids, other columns, and the
    topics not weekly with their cadence (a cell "asylum:daily").

    A tuple, not a dataclass: one is made per row, and a tuple is made five times faster.
    """

    line: int
    email: str
    name: str
    topics: frozenset[int]
    attributes: dict[str, str]
    cadences: Mapping[int, Cadence] = _ALL_WEEKLY


class _Lines:
    """Decodes a binary stream line by line, noting which lines were not UTF-8 and bytes read."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self.stream = stream
        self.bad: set[int] = set()
        self.bytes_read = 0

    def __iter__(self) -> Iterator[str]:
        for number, raw in enumerate(self.stream, start=1):
            self.bytes_read += len(raw)
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad.add(number)
                yield raw.decode("utf-8", "replace")


class _Row:
    """Turns one CSV record into a Record or a Rejection, remembering the addresses seen."""

    def __init__(
        self,
        header: list[str],
        topics: Topics,
        check_deliverability: bool,
        offer: Collection[Cadence],
    ) -> None:
        names = [column.strip().lower() for column in header]
        if "email" not in names:
            found = ", ".join(repr(n) for n in names if n) or "nothing"
            raise ImportFileError(f"the header has no 'email' column (found {found})", line=1)
        self.names = names
        self.width = len(names)
        self.topics = topics
        self.offer = offer
        self.normalise = AddressChecker(check_deliverability=check_deliverability)
        self.seen: dict[str, int] = {}
        # A list repeats a handful of topic cells: each is split and checked once.
        self.topic_cells: dict[str, tuple[frozenset[int], Mapping[int, Cadence]] | str] = {}
        self.skip = frozenset(("", "email", "name", "topics", *EXPORT_ONLY))

    def parse(self, line: int, cells: list[str]) -> Record | Rejection | None:
        stripped = [cell.strip() for cell in cells]
        if not any(stripped):
            return None  # a blank line is not a row
        if len(cells) > self.width:
            return Rejection(line, "", f"{len(cells)} cells but the header has {self.width}")
        values = dict(
            zip(
                self.names,
                [restore(cell) if cell[:1] == "'" else cell for cell in stripped],
                strict=False,
            )
        )
        raw_email = values.get("email", "")
        try:
            email = self.normalise(raw_email)
        except InvalidAddress as exc:
            return Rejection(line, raw_email, f"invalid address: {exc.reason}")
        first = self.seen.get(email)
        if first is not None:
            return Rejection(line, email, f"duplicate: same address as line {first}")
        cell = values.get("topics", "")
        chosen = self.topic_cells.get(cell)
        if chosen is None:
            chosen = self.topic_cells[cell] = topic_cell(self.topics, cell, self.offer)
        if isinstance(chosen, str):
            return Rejection(line, email, chosen)
        topics, cadences = chosen
        try:
            name = check_name(values.get("name", ""))
        except InvalidName as exc:
            return Rejection(line, email, exc.reason)
        self.seen[email] = line
        skip = self.skip
        attributes = {key: value for key, value in values.items() if value and key not in skip}
        return Record(line, email, name, topics, attributes, cadences)


class Parser:
    """Reads a CSV stream: `rows` counts its non-blank records, `bytes_read` its progress.

    The header is read on creation: ImportFileError when there is none usable, before any
    row is looked at. Iterating yields, in file order, a Record or a Rejection per row.
    """

    def __init__(
        self,
        stream: BinaryIO,
        topics: Topics,
        *,
        check_deliverability: bool = False,
        offer: Collection[Cadence] = (Cadence.WEEKLY,),
    ) -> None:
        self._lines = _Lines(stream)
        self._reader = csv.reader(self._lines, strict=False)
        try:
            header = next(self._reader)
        except StopIteration:
            raise ImportFileError(
                "the file is empty; expected a header line such as email,name,topics"
            ) from None
        except csv.Error as exc:
            raise ImportFileError(f"not a CSV header: {exc}", line=1) from None
        if 1 in self._lines.bad:
            raise ImportFileError("the header is not UTF-8 text; save the file as UTF-8", line=1)
        self._row = _Row(header, topics, check_deliverability, offer)
        self.rows = 0

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    def __iter__(self) -> Iterator[Record | Rejection]:
        reader, bad = self._reader, self._lines.bad
        previous_line = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Rejection(reader.line_num, "", f"not valid CSV: {exc}")
                previous_line = reader.line_num
                continue
            line = previous_line + 1
            end = reader.line_num
            previous_line = end
            if bad and any(n in bad for n in range(line, end + 1)):
                self.rows += 1
                yield Rejection(line, "", "not UTF-8 text; save the file as UTF-8")
                continue
            parsed = self._row.parse(line, cells)
            if parsed is not None:
                self.rows += 1
                yield parsed
