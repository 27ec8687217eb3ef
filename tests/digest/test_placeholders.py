"""Placeholders: filled per recipient, and never forged by text that looks like one."""

from __future__ import annotations

import pytest

from newsletter.digest.placeholders import MARK, Template, marker, scrub


def test_fill_inserts_each_value_where_its_marker_was() -> None:
    finished = f'Hi {marker("name")}! <a href="{marker("unsubscribe_url")}">x</a> {marker("name")}'
    template = Template(finished.encode())
    assert template.names == ["name", "unsubscribe_url", "name"]
    filled = template.fill({"name": b"Ana", "unsubscribe_url": b"https://e.org/u?t=1"})
    assert filled == b'Hi Ana! <a href="https://e.org/u?t=1">x</a> Ana'


def test_text_that_looks_like_a_marker_is_scrubbed_and_stays_literal() -> None:
    hostile = f"Title {marker('unsubscribe_url')} and {{{{ name }}}}"
    finished = f"<h1>{scrub(hostile)}</h1>{marker('name')}"
    filled = Template(finished.encode()).fill({"name": b"Ana"})
    assert filled == b"<h1>Title unsubscribe_url and {{ name }}</h1>Ana"
    assert MARK.encode() not in filled


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        Template(marker("name").encode()).fill({})


def test_bad_names_are_refused() -> None:
    with pytest.raises(ValueError, match="not a placeholder name"):
        marker("Name With Spaces")


def test_html_values_are_escaped_and_text_values_are_not() -> None:
    from newsletter.digest.placeholders import html_marker, values_for

    finished = f"<p>{html_marker('name')}</p>\n{marker('name')}".encode()
    filled = Template(finished).fill(values_for({"name": 'Kim <"K"> & Co'}))
    assert filled == b'<p>Kim &lt;&quot;K&quot;&gt; &amp; Co</p>\nKim <"K"> & Co'
