"""CSV import: good rows in, every bad row named with its line and reason, re-runs change nothing;
export: formula-safe and importable again."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from newsletter.models import Topic
from newsletter.runtime import Runtime
from subscribers.cells import neutralise
from subscribers.csv_export import export_csv
from subscribers.csv_import import import_csv
from subscribers.errors import ImportFileError
from subscribers.lifecycle import suppress
from subscribers.models import Cause, Status, Subscriber, SubscriberEvent

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)

MESSY = (
    (
        b"Email,Name,Topics,City\r\n"  # header names in any case
        b"ana@example.org,Ana,asylum,El Paso\r\n"  # 2
        b"not-an-address,Bad,,\r\n"  # 3
        b"ANA@example.org,Ana again,,\r\n"  # 4: same address as line 2
        b"ben@example.org,Ben,astrology,\r\n"  # 5: unknown topic
        b'"cy@example.org","Cy, Jr.","asylum;border-enforcement",Tucson\r\n'  # 6
        b"\r\n"  # 7: blank, not a row
        b"gone@example.org,Gone,,\r\n"  # 8: suppressed
        b"dee@example.org,Dee,,,extra\r\n"  # 9: too many cells
    )
    + b"eve@example.org,\xe9ve,,\r\n"
    + b'"multi@example.org","Line\r\nbreak",,\r\n'
)  # 10, 11


@pytest.fixture
def topics(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions.begin() as session:
        session.add_all(
            [
                Topic(slug="asylum", name="Asylum"),
                Topic(slug="border-enforcement", name="Border Enforcement"),
            ]
        )
        session.flush()
        suppress(session, "gone@example.org", Cause.COMPLAINT, NOW)
        return {t.slug: t.id for t in session.scalars(select(Topic))}


def _import(runtime: Runtime, data: bytes, ids: dict[str, int], confirmed: bool = True):
    # `ids`: the topics fixture, asked for so that the topics exist; the import reads them itself.
    return import_csv(
        runtime.sessions,
        io.BytesIO(data),
        NOW,
        confirmed=confirmed,
        source="list.csv",
        batch=2,
    )


def test_a_messy_file_imports_its_good_rows_and_names_the_bad(
    runtime: Runtime, topics: dict[str, int]
) -> None:
    report = _import(runtime, MESSY, topics)
    assert [(r.line, r.reason.split(":")[0].split(" (")[0]) for r in report.rejected] == [
        (3, "invalid address"),
        (4, "duplicate"),
        (5, "unknown topic 'astrology'"),
        (8, "suppressed"),
        (9, "5 cells but the header has 4"),
        (10, "not UTF-8 text; save the file as UTF-8"),
        (11, "the name must be one line of text, without line breaks or tabs"),
    ]
    assert "same address as line 2" in report.rejected[1].reason
    assert "complained" in report.rejected[3].reason
    # A name with a line break would make every email to it fail later: refused here.
    assert report.rejected[6].email == "multi@example.org"
    assert (report.rows, report.imported, report.existing) == (9, 2, 0)
    with runtime.sessions() as session:
        people = {s.email: s for s in session.scalars(select(Subscriber))}
        assert set(people) == {"ana@example.org", "cy@example.org"}
        cy = people["cy@example.org"]
        assert (cy.name, cy.status, cy.attributes) == ("Cy, Jr.", Status.ACTIVE, {"city": "Tucson"})
        assert {t.topic_id for t in cy.topics} == set(topics.values())
        event = cy.events[0]
        assert (event.cause, event.to_status, event.detail) == (
            Cause.IMPORT,
            Status.ACTIVE,
            "list.csv line 6: confirmed by the list owner",
        )


def test_running_the_same_import_again_changes_nothing(
    runtime: Runtime, topics: dict[str, int]
) -> None:
    _import(runtime, MESSY, topics)
    with runtime.sessions() as session:
        events = session.scalar(select(func.count()).select_from(SubscriberEvent))
    again = _import(runtime, MESSY, topics)
    assert (again.imported, again.existing) == (0, 2)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SubscriberEvent)) == events
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 2


def test_without_confirmed_rows_are_pending_and_owed_a_confirmation(
    runtime: Runtime, topics: dict[str, int]
) -> None:
    data = b"email\na@example.org\nb@example.org\n"
    report = _import(runtime, data, topics, confirmed=False)
    assert len(report.to_confirm) == 2
    with runtime.sessions() as session:
        assert set(session.scalars(select(Subscriber.status))) == {Status.PENDING}
    # Re-run after a crash before any email went out: the confirmations are still owed.
    assert len(_import(runtime, data, topics, confirmed=False).to_confirm) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"name,topics\nAna,asylum\n", "no 'email' column"),
        (b"ana@example.org,Ana\n", "no 'email' column (found 'ana@example.org', 'ana')"),
        (b"\xff\xfee\x00m\x00a\x00i\x00l\x00\n", "not UTF-8"),
    ],
)
def test_a_file_without_a_usable_header_imports_nothing(
    runtime: Runtime, topics: dict[str, int], data: bytes, message: str
) -> None:
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _import(runtime, data, topics)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_export_neutralises_formulas_and_imports_back(
    runtime: Runtime, topics: dict[str, int]
) -> None:
    data = (
        b"email,name,topics,note\n"
        b'ana@example.org,=HYPERLINK("http://evil"),asylum,+1\n'
        b"-dash@example.org,@Bob,,=cmd|calc\n"
    )
    assert _import(runtime, data, topics).imported == 2
    out = io.StringIO()
    with runtime.sessions() as session:
        assert export_csv(session, out) == 2
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "email,name,topics,status,created_at,confirmed_at,signup_source,signup_referrer,"
        "utm_source,utm_medium,utm_campaign,utm_term,utm_content,note"
    )
    assert lines[1].startswith("""ana@example.org,"'=HYPERLINK(""http://evil"")",asylum,active,""")
    assert lines[1].endswith(",'+1")
    assert lines[2].startswith("'-dash@example.org,'@Bob,,active")
    assert lines[2].endswith(",'=cmd|calc")
    # The export is a valid import: nothing new, nothing rejected.
    again = _import(runtime, out.getvalue().encode(), topics)
    assert (again.imported, again.existing, again.rejected) == (0, 2, [])


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_neutralise(cell: str, safe: str) -> None:
    assert neutralise(cell) == safe
