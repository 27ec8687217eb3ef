"""Article pages as publishers serve them: OpenGraph meta tags, or a JSON-LD NewsArticle."""

from __future__ import annotations

import json
from datetime import datetime


def open_graph_page(
    title: str, teaser: str, image: str, published: datetime, url: str = ""
) -> bytes:
    own = f'<meta property="og:url" content="{url}">' if url else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Partner News</title>
<meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta property="og:description" content="{teaser}">
<meta property="og:image" content="{image}">
<meta property="og:image:alt" content="A shelter's front door">
<meta property="article:published_time" content="{published.isoformat()}">
{own}
</head><body><article><h1>{title}</h1><p>{teaser}</p></article></body></html>""".encode()


def json_ld_page(title: str, teaser: str, image: str, published: datetime) -> bytes:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "description": teaser,
        "image": [image],
        "datePublished": published.isoformat(),
        "author": {"@type": "Person", "name": "Ana Reyes"},
    }
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script type="application/ld+json">{json.dumps(data)}</script>
</head><body><h1>{title}</h1></body></html>""".encode()
