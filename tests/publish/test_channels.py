"""channels(): a post carried by several of a build's feeds reads the same in each of them.

That each post's entry is made once per build (sanitising is the slow part) is a cost, not a
behaviour: bench/feeds.py's "full rebuild of every feed" figure is where it shows.
"""

from __future__ import annotations

from datetime import timedelta

from newsletter.models import Topic
from newsletter.publish.channels import channels
from newsletter.runtime import Runtime
from tests.publish.cases import NASTY, T0, add_posts


def test_a_post_in_several_feeds_reads_the_same_in_each(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        topics = [Topic(slug="asylum", name="Asylum"), Topic(slug="border", name="Border")]
        add_posts(session, NASTY[:3], topics)
    with runtime.sessions() as session:
        site, archive, asylum, border = channels(
            session, runtime.settings, None, {}, T0 + timedelta(days=1)
        )
    assert archive.entries == ()
    assert site.entries == asylum.entries == border.entries
    # Stored titles are the text a reader sees (collect decodes entities once): the feeds
    # carry them as they are, markup-looking characters and entity-looking words included.
    assert [entry.title for entry in site.entries] == [
        "Families reunited 🎉👨‍👩‍👧",
        "Fees & Fines: R&amp;D &lt;budget&gt;",
        "<em>Beyond</em> A Border <b>Solution</b>",
    ]
    for entry in site.entries:
        assert [category.term for category in entry.categories] == ["asylum", "border"]
