"""The CSV parser alone: bytes in, records and rejections with their line numbers out; no DB."""

from __future__ import annotations

import io

from subscribers.csv_parse import Parser, Record, Rejection
from subscribers.topics import Topics

TOPICS = Topics({"asylum": 1, "border-enforcement": 2})


def _parse(data: bytes) -> tuple[Parser, list[Record | Rejection]]:
    parser = Parser(io.BytesIO(data), TOPICS)
    return parser, list(parser)


def test_rows_come_out_checked_and_in_file_order() -> None:
    data = (
        b"\xef\xbb\xbfEmail,Name,Topics,City\r\n"
        b"Ana@Example.org,Ana,Asylum|border-enforcement,El Paso\r\n"  # 2
        b"\r\n"  # 3: blank, not a row
        b"'=ben@example.org,'@Ben,,'+1\r\n"  # 4: an export's neutralised cells, restored
        b"bad,Bad,,\r\n"  # 5
        b"ana@example.org,Ana again,,\r\n"  # 6
        b"cy@example.org,Cy,crime,\r\n"  # 7
        b'"dee@example.org","Line\r\nbreak",,\r\n'  # 8-9
        b"eve@example.org,\xe9ve,,\r\n"  # 10
    )
    parser, parsed = _parse(data)
    assert parsed[:2] == [
        Record(2, "ana@example.org", "Ana", frozenset({1, 2}), {"city": "El Paso"}),
        Record(4, "=ben@example.org", "@Ben", frozenset(), {"city": "+1"}),
    ]
    assert [(r.line, r.email, r.reason.split(":")[0]) for r in parsed[2:]] == [
        (5, "bad", "invalid address"),
        (6, "ana@example.org", "duplicate"),
        (7, "cy@example.org", "unknown topic 'crime'"),
        (8, "dee@example.org", "the name must be one line of text, without line breaks or tabs"),
        (10, "", "not UTF-8 text; save the file as UTF-8"),
    ]
    assert parser.rows == 7  # the blank line is not counted
    assert parser.bytes_read == len(data)
