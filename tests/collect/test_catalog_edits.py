"""Editors' changes to sources and topics: checked, stamped, and read by collect and push."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter import catalog_edits
from newsletter.catalog_edits import CatalogError
from newsletter.collect.run import collect, pulled_sources
from newsletter.models import Post, Source, Topic
from newsletter.web.app import create_app
from tests.collect.conftest import BORDER_SELECTORS, NOW, demo_sources


def _fields(base: str, **extra: str) -> dict[str, str]:
    return {
        "name": "border",
        "kind": "html",
        "url": f"{base}/topics/border-enforcement.html",
        **BORDER_SELECTORS,
        **extra,
    }


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"name": "x", "kind": "feed", "url": "not a url"}, "url: "),
        ({"name": "x", "kind": "feed", "url": ""}, "a feed source needs an address"),
        ({"name": "x", "kind": "gopher", "url": "https://a.example.org/"}, "kind: "),
        ({"name": "", "kind": "feed", "url": "https://a.example.org/"}, "name: "),
        ({"name": "x", "kind": "feed", "url": "ftp://a.example.org/"}, "url: "),
        (
            {"name": "x", "kind": "html", "url": "https://a.example.org/", "max_pages": "0"},
            "max_pages",
        ),
        ({"name": "x" * 3000, "kind": "feed", "url": "https://a.example.org/"}, "longer than"),
    ],
)
def test_a_bad_form_says_what_is_wrong_without_quoting_it(
    fields: dict[str, str], problem: str
) -> None:
    with pytest.raises(CatalogError) as caught:
        catalog_edits.source_settings(fields, [])
    assert problem in str(caught.value)
    assert "not a url" not in str(caught.value)


def test_a_source_added_by_an_editor_is_collected_and_its_host_is_guarded(
    make_runtime: Any, site: str
) -> None:
    runtime = make_runtime([])
    with runtime.sessions.begin() as session:
        wanted = catalog_edits.source_settings(_fields(site), ["border-enforcement"])
        source = catalog_edits.save_source(session, wanted, "pub@example.org", NOW)
        assert (source.edited_by, source.selectors) == ("pub@example.org", BORDER_SELECTORS)
    assert [config.name for _id, config in pulled_sources(runtime)] == ["border"]
    # 127.0.0.1 typed by an editor is not the operator's choice: the guard refuses it.
    refused = collect(runtime)
    assert refused.failed
    assert "a loopback address" in (refused.failed[0].error or "")
    # The same database, its init run again with an empty file: the editor's source stays.
    trusting = make_runtime([], collect={"trusted_hosts": ["127.0.0.1"]})
    report = collect(trusting)
    assert report.failed == []
    assert report.sources[0].new > 0
    with trusting.sessions() as session:
        slugs = [{t.slug for t in post.topics} for post in session.scalars(select(Post))]
    assert slugs
    assert all("border-enforcement" in found for found in slugs)


def test_editing_keeps_state_and_key_and_removal_keeps_the_archive(
    make_runtime: Any, site: str
) -> None:
    runtime = make_runtime(demo_sources(site))
    with runtime.sessions.begin() as session:
        feed = session.scalars(select(Source).where(Source.name == "site-feed")).one()
        feed_id = feed.id
        catalog_edits.set_enabled(session, feed_id, False, "pub@example.org", NOW)
    report = collect(runtime, ["site-feed"])
    assert report.sources[0].new > 0  # named, it runs even while disabled, as before
    assert [c.name for _i, c in pulled_sources(runtime)] == ["border-page", "site-api"]
    with runtime.sessions.begin() as session:
        wanted = catalog_edits.source_settings(
            {"name": "renamed-feed", "kind": "feed", "url": f"{site}/feed.xml"}, []
        )
        catalog_edits.save_source(session, wanted, "ed2@example.org", NOW, feed_id)
    with runtime.sessions.begin() as session:
        feed = session.get_one(Source, feed_id)
        assert (feed.name, feed.enabled, feed.edited_by) == (
            "renamed-feed",
            False,
            "ed2@example.org",
        )
        with pytest.raises(CatalogError, match="disable it instead"):
            catalog_edits.remove_source(session, feed_id, "pub@example.org")
        with pytest.raises(CatalogError, match="already a source named"):
            catalog_edits.save_source(
                session, wanted.model_copy(update={"name": "site-api"}), "x", NOW, feed_id
            )
        api = session.scalars(select(Source).where(Source.name == "site-api")).one()
        assert catalog_edits.remove_source(session, api.id, "pub@example.org") == "site-api"
    with runtime.sessions() as session:
        assert session.scalars(select(Source.name).order_by(Source.name)).all() == [
            "border-page",
            "renamed-feed",
        ]


def test_a_push_key_made_in_the_admin_is_the_one_the_api_takes(make_runtime: Any) -> None:
    runtime = make_runtime([])
    with runtime.sessions.begin() as session:
        wanted = catalog_edits.source_settings({"name": "cms", "kind": "push"}, ["asylum"])
        source = catalog_edits.save_source(session, wanted, "pub@example.org", NOW)
        session.flush()
        key = catalog_edits.new_key(session, source.id, "pub@example.org", NOW)
        assert key not in (source.api_key_sha256 or "")
    client = TestClient(create_app(runtime))
    post = {"title": "Pushed", "url": "https://demo.example.org/2026/11/pushed/"}
    assert client.post("/api/posts", json=post, headers={"X-API-Key": "wrong"}).status_code == 401
    answer = client.post("/api/posts", json=post, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 201, answer.text


def test_topics_are_added_renamed_and_removed_only_when_unused(make_runtime: Any) -> None:
    runtime = make_runtime([])
    with runtime.sessions.begin() as session:
        wanted = catalog_edits.topic_settings({"slug": "detention", "name": "Detention"})
        topic = catalog_edits.save_topic(session, wanted, "pub@example.org", NOW)
        with pytest.raises(CatalogError, match="already a topic"):
            catalog_edits.save_topic(session, wanted, "pub@example.org", NOW)
        renamed = wanted.model_copy(update={"name": "Detention & Bonds"})
        catalog_edits.save_topic(session, renamed, "ed@example.org", NOW, topic.id)
        source = catalog_edits.source_settings({"name": "cms", "kind": "push"}, ["detention"])
        catalog_edits.save_source(session, source, "pub@example.org", NOW)
        with pytest.raises(CatalogError, match="topic of the source cms"):
            catalog_edits.remove_topic(session, topic.id, "pub@example.org")
        with pytest.raises(CatalogError, match="slug"):
            catalog_edits.topic_settings({"slug": "Not A Slug", "name": "X"})
        unused = catalog_edits.save_topic(
            session, catalog_edits.topic_settings({"slug": "spare", "name": "Spare"}), "p", NOW
        )
        assert catalog_edits.remove_topic(session, unused.id, "pub@example.org") == "spare"
    with runtime.sessions() as session:
        topic = session.scalars(select(Topic).where(Topic.slug == "detention")).one()
        assert session.scalars(select(Topic).where(Topic.slug == "spare")).first() is None
    assert (topic.name, topic.edited_by) == ("Detention & Bonds", "ed@example.org")
