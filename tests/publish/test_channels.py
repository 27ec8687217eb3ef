"""channels() makes each post's entry once, however many of the build's feeds carry it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsletter.config import Settings
from newsletter.models import Post, Topic
from newsletter.publish import channels as channels_module
from newsletter.publish.channels import channels
from newsletter.publish.model import Entry
from newsletter.runtime import Runtime
from tests.publish.cases import NASTY, T0, add_posts


def test_a_post_in_several_feeds_is_made_into_an_entry_once(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with runtime.sessions.begin() as session:
        topics = [Topic(slug="asylum", name="Asylum"), Topic(slug="border", name="Border")]
        add_posts(session, NASTY[:3], topics)
    made: list[int] = []
    post_entry = channels_module.post_entry

    def counting(post: Post, settings: Settings) -> Entry:
        made.append(post.id)
        return post_entry(post, settings)

    monkeypatch.setattr(channels_module, "post_entry", counting)
    with runtime.sessions() as session:
        site, _archive, asylum, border = channels(
            session, runtime.settings, None, {}, T0 + timedelta(days=1)
        )
    assert len(made) == len(set(made)) == 3
    assert site.entries == asylum.entries == border.entries
    assert all(a is b for a, b in zip(site.entries, border.entries, strict=True))
