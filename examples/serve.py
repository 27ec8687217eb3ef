"""Serve the demo site on 127.0.0.1, with a small WordPress REST API beside the static files.

`python examples/serve.py --port 8001` (what `make run` does). The static files are served as
they are; `/wp-json/wp/v2/posts` answers from `wp-json/wp/v2/posts.json` the way WordPress
does: `page`, `per_page` and `modified_after` are honoured, and the X-WP-Total and
X-WP-TotalPages headers say how many posts and pages there are. Tests import this module too.
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SITE = Path(__file__).resolve().parent / "site"
POSTS_PATH = "/wp-json/wp/v2/posts"


class DemoSiteHandler(SimpleHTTPRequestHandler):
    """Static files, clean URLs for the donate page, and the posts endpoint."""

    posts_file = SITE / "wp-json" / "wp" / "v2" / "posts.json"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path.rstrip("/") == POSTS_PATH:
            self._posts(parse_qs(parts.query))
            return
        if parts.path == "/donate":
            self.path = "/donate.html"
        super().do_GET()

    def _posts(self, query: dict[str, list[str]]) -> None:
        posts: list[dict[str, Any]] = json.loads(self.posts_file.read_text(encoding="utf-8"))
        after = query.get("modified_after", [""])[0]
        if after:
            cutoff = _instant(after)
            posts = [post for post in posts if _instant(post["modified_gmt"] + "Z") > cutoff]
        if query.get("orderby", [""])[0] == "modified":
            posts.sort(key=lambda post: post["modified_gmt"])
            if query.get("order", ["desc"])[0] == "desc":
                posts.reverse()
        per_page = max(1, min(100, int(query.get("per_page", ["10"])[0])))
        page = max(1, int(query.get("page", ["1"])[0]))
        pages = max(1, math.ceil(len(posts) / per_page))
        if page > pages and posts:
            self._json(400, {"code": "rest_post_invalid_page_number"}, len(posts), pages)
            return
        self._json(200, posts[(page - 1) * per_page : page * per_page], len(posts), pages)

    def _json(self, status: int, body: Any, total: int, pages: int) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-WP-Total", str(total))
        self.send_header("X-WP-TotalPages", str(pages))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: `make run` prints the collector's summary instead


def _instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@contextmanager
def serving(directory: Path = SITE, port: int = 0) -> Iterator[str]:
    """The demo site on 127.0.0.1 (a free port unless one is given); yields its base URL."""
    handler = partial(DemoSiteHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _wait(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the demo site did not start on 127.0.0.1:{port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--wait", action="store_true", help="only wait until the port answers")
    args = parser.parse_args()
    if args.wait:
        _wait(args.port)
        return
    handler = partial(DemoSiteHandler, directory=str(SITE))
    with ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
