"""A source cannot send the collector anywhere but public hosts (and its own, configured one).

The tests' servers all listen on 127.0.0.1, so "a public source" is one configured as
http://localhost:PORT: a redirect from it to http://127.0.0.1:OTHER is to another host, which
is then checked like any other, and refused as loopback.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.collect.fetch import Fetcher
from newsletter.config import CollectSettings
from newsletter.errors import FetchError
from newsletter.models import Post, Source
from newsletter.pipeline.publishing import collect_and_publish
from newsletter.web.app import create_app
from tests.collect.httpserver import Reply, http_server

RSS = "application/rss+xml"


def rss(title: str, link: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>'
        f"<link>https://good.example/</link><item><title>{title}</title><link>{link}</link>"
        "<description>Words.</description></item></channel></rss>"
    ).encode()


INTERNAL = {
    "/internal": Reply(
        rss("Internal secret", "https://x.example/s/"), headers={"Content-Type": RSS}
    )
}


def localhost(base: str) -> str:
    return base.replace("127.0.0.1", "localhost")


def test_a_redirect_to_an_internal_host_is_refused_and_nothing_is_published(
    make_runtime: Any,
) -> None:
    with http_server(INTERNAL) as inside, http_server({}) as outside:
        outside.routes["/feed.xml"] = Reply(
            status=302, headers={"Location": f"{inside.base}/internal"}
        )
        outside.routes["/good.xml"] = Reply(
            rss("Good news", "https://good.example/g/"), headers={"Content-Type": RSS}
        )
        runtime = make_runtime(
            [
                {"name": "public", "kind": "feed", "url": f"{localhost(outside.base)}/feed.xml"},
                # Configured on 127.0.0.1 itself: the operator's choice, trusted as it is.
                {"name": "own", "kind": "feed", "url": f"{outside.base}/good.xml"},
            ],
            collect={"retries": 0},
        )
        report = collect_and_publish(runtime)
        assert inside.hits("/internal") == 0
    by_name = {r.name: r for r in report.sources}
    assert "refused to connect to 127.0.0.1: a loopback address" in (by_name["public"].error or "")
    assert by_name["own"].new == 1
    with runtime.sessions() as session:
        assert set(session.scalars(select(Post.title))) == {"Good news"}
        errors = dict(session.execute(select(Source.name, Source.last_error)).all())
    assert "loopback" in errors["public"]
    feed = TestClient(create_app(runtime)).get("/feed.xml").text
    assert "Good news" in feed
    assert "Internal secret" not in feed


def test_a_redirect_back_to_the_configured_host_is_followed() -> None:
    with http_server({}) as server:
        server.routes["/old"] = Reply(status=301, headers={"Location": "/new"})
        server.routes["/new"] = Reply(b"moved here")
        fetched = Fetcher(CollectSettings()).get(f"{localhost(server.base)}/old")
    assert fetched.content == b"moved here"


def test_redirects_to_other_schemes_are_refused() -> None:
    settings = CollectSettings(retries=0)
    with http_server({}) as server:
        for scheme, target in (("file", "file:///etc/passwd"), ("ftp", "ftp://example.org/x")):
            server.routes[f"/{scheme}"] = Reply(status=302, headers={"Location": target})
            with pytest.raises(FetchError, match=f"refused to follow a {scheme}: link"):
                Fetcher(settings).get(f"{server.base}/{scheme}")


def test_pagination_stays_on_the_source_host(make_runtime: Any) -> None:
    selectors = {"item": "article", "title": "h2 a", "link": "h2 a"}

    def page(title: str, next_url: str | None) -> Reply:
        link = f'<link rel="next" href="{next_url}">' if next_url else ""
        body = (
            f"<html><head>{link}</head><body><article><h2><a href='https://good.example/"
            f"{title}/'>{title}</a></h2></article></body></html>"
        )
        return Reply(body.encode(), headers={"Content-Type": "text/html"})

    with http_server({}) as inside, http_server({}) as server:
        inside.routes["/secret.html"] = page("secret", None)
        server.routes["/list.html"] = page("first", f"{server.base}/list2.html")
        # Page 2 points to another host: a hostname for the same machine, on another port.
        server.routes["/list2.html"] = page("second", f"{localhost(inside.base)}/secret.html")
        runtime = make_runtime(
            [
                {
                    "name": "pages",
                    "kind": "html",
                    "url": f"{server.base}/list.html",
                    "selectors": selectors,
                }
            ],
            collect={"retries": 0},
        )
        report = collect_and_publish(runtime)
        assert inside.hits("/secret.html") == 0
    assert report.sources[0].new == 2
    with runtime.sessions() as session:
        assert set(session.scalars(select(Post.title))) == {"first", "second"}
        error = session.scalars(select(Source.last_error)).one()
    assert "next page on another host, not followed" in (error or "")


def test_https_connects_to_the_address_and_verifies_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # the fetcher trusts the system store
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    with http_server({"/f": Reply(b"over tls")}, tls=context) as server:
        # The socket goes to the resolved address; the certificate is checked for the name.
        fetched = Fetcher(CollectSettings(retries=0)).get(f"{localhost(server.base)}/f")
        assert fetched.content == b"over tls"
        with pytest.raises(FetchError, match=r"certificate is not valid for '127\.0\.0\.1'"):
            Fetcher(CollectSettings(retries=0)).get(f"{server.base}/f")
