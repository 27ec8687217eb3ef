"""Feeds benchmark: build time for 1,000 posts, gzip's cost, then /feed.xml req/s beside nginx.

Run: .venv/bin/python bench/feeds.py [--seconds 5] [--connections 32]
Needs nginx (Debian's nginx-light) and wrk on PATH for the serving part.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from newsletter import migrate
from newsletter.config import load_settings
from newsletter.models import Post, Topic
from newsletter.publish import store
from newsletter.publish.channels import site_channel
from newsletter.publish.export import export
from newsletter.publish.rebuild import rebuild
from newsletter.publish.render import render
from newsletter.publish.websub import NoNotifier
from newsletter.runtime import Runtime

POSTS = 1000
BUILD_LIMIT_MS = 100.0
SERVE_GOAL = 0.25
TOPICS = ["asylum", "border-enforcement", "detention", "courts", "daca"]


def seeded_runtime(tmp: Path) -> Runtime:
    """A fresh SQLite database in `tmp` with the benchmark's posts and topics."""
    tmp.chmod(0o755)  # nginx's worker runs as another user and must read the files
    settings = load_settings(database_url=f"sqlite:///{tmp / 'bench.db'}", var_dir=tmp / "var")
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.engine)
    seed(runtime)
    return runtime


def start_serve(runtime: Runtime, port: int) -> subprocess.Popen[bytes]:
    """The service as it runs: `newsletter serve`, scheduler included, without an access log
    (nginx here writes none either)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env |= {
        "NEWSLETTER_DATABASE_URL": runtime.settings.database_url,
        "NEWSLETTER_VAR_DIR": str(runtime.settings.var_dir),
    }
    newsletter = str(Path(sys.executable).parent / "newsletter")
    return subprocess.Popen(
        [newsletter, "serve", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("BENCH_SERVER_LOG") else subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def seed(runtime: Runtime) -> None:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    teaser = (
        "America needs durable solutions. These concrete measures can bring orderliness to our "
        "border and modernize our overwhelmed asylum system — “Read more” & more. "
    )
    body = "<p>" + "Policy analysis with <a href='https://example.org/x?a=1&b=2'>links</a>. " * 20
    with runtime.sessions.begin() as session:
        topics = [Topic(slug=s, name=s.replace("-", " ").title(), description="") for s in TOPICS]
        session.add_all(topics)
        for n in range(POSTS):
            at = start + timedelta(hours=7 * n)
            post = Post(
                url=f"https://demo.example.org/posts/{n}",
                content_hash=f"{n:064d}",
                title=f"Beyond A Border Solution, part {n} & <em>more</em> 🎉",
                teaser=teaser * 2,
                body_html=body + "</p>",
                author_name="Demo Policy Team" if n % 3 else None,
                image_url=f"https://demo.example.org/images/{n}.png" if n % 2 else None,
                published_at=at,
                updated_at=at,
                first_seen_at=at,
            )
            post.topics = list(
                {
                    topics[n % len(topics)].slug: topics[n % len(topics)],
                    topics[(n * 3 + 1) % len(topics)].slug: topics[(n * 3 + 1) % len(topics)],
                }.values()
            )
            session.add(post)


def time_build(runtime: Runtime, rounds: int) -> list[float]:
    """Milliseconds to query the site's newest posts and render RSS, Atom and JSON Feed."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        with runtime.sessions() as session:
            channel = site_channel(session, runtime.settings, runtime.clock.now())
            bodies = render(channel)
        times.append((time.perf_counter() - started) * 1000)
        assert len(bodies) == 3
    return times


def time_gzip(runtime: Runtime, rounds: int) -> tuple[float, int, int]:
    """Milliseconds to gzip the stored /feed.xml as a process does once per version; sizes."""
    with runtime.sessions() as session:
        document = store.load(session, "/feed.xml")
    assert document is not None
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        packed = gzip.compress(document.body, store.GZIP_LEVEL, mtime=0)
        times.append((time.perf_counter() - started) * 1000)
    assert packed == document.gzipped
    return statistics.median(times), len(document.body), len(packed)


def wait_for(url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"nothing answered at {url}")


def wrk(
    url: str,
    seconds: int,
    connections: int,
    header: str | None = None,
    script: Path | None = None,
) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if header:
        command[1:1] = ["-H", header]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if match is None or non_2xx is not None:
        raise SystemExit(f"wrk failed on {url}:\n{output}")
    return float(match.group(1))


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ application/rss+xml xml; application/feed+json json; }}
    charset utf-8;
    charset_types application/rss+xml application/feed+json;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        add_header Cache-Control "public, max-age=300";
    }}
}}
"""

BARE = """
import uvloop
from granian.constants import HTTPModes, Interfaces
from granian.server.embed import Server

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({{"type": "http.response.start", "status": 304, "headers": [(b"etag", b'"x"')]}})
    await send({{"type": "http.response.body", "body": b""}})

server = Server(app, address="127.0.0.1", port={port}, interface=Interfaces.ASGINL,
                http=HTTPModes.http1, websockets=False, log_level="warning")
uvloop.run(server.serve())
"""


def server_ceiling(seconds: int, connections: int) -> float:
    """Requests/s of an ASGI app that does nothing but answer 304: the server's own limit."""
    port = free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE.format(port=port)])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        return wrk(f"http://127.0.0.1:{port}/", seconds, connections)
    finally:
        bare.terminate()
        bare.wait(10)


def serve_and_measure(
    runtime: Runtime, tmp: Path, seconds: int, connections: int
) -> tuple[float, float, float, float, float]:
    public = tmp / "public"
    export(runtime, public)
    app_port, nginx_port = free_port(), free_port()
    app = start_serve(runtime, app_port)
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=nginx_port, root=public))
    nginx = subprocess.Popen(["nginx", "-c", str(tmp / "nginx.conf"), "-p", str(tmp)])
    try:
        app_url = f"http://127.0.0.1:{app_port}/feed.xml"
        nginx_url = f"http://127.0.0.1:{nginx_port}/feed.xml"
        wait_for(app_url)
        wait_for(nginx_url)
        app_etag = httpx.get(app_url).headers["etag"]
        nginx_etag = httpx.get(nginx_url).headers["etag"]
        assert httpx.get(app_url).content == httpx.get(nginx_url).content, "not the same bytes"
        app_200 = wrk(app_url, seconds, connections)
        nginx_200 = wrk(nginx_url, seconds, connections)
        app_304 = wrk(app_url, seconds, connections, f"If-None-Match: {app_etag}")
        nginx_304 = wrk(nginx_url, seconds, connections, f"If-None-Match: {nginx_etag}")
        app_gzip = wrk(app_url, seconds, connections, "Accept-Encoding: gzip")
        return app_200, nginx_200, app_304, nginx_304, app_gzip
    finally:
        for process in (app, nginx):
            process.terminate()
            process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-feeds-") as name:
        tmp = Path(name)
        runtime = seeded_runtime(tmp)
        settings = runtime.settings
        time_build(runtime, 3)  # warm up imports and the connection pool
        times = time_build(runtime, args.rounds)
        median = statistics.median(times)
        started = time.perf_counter()
        rebuild(runtime, None, NoNotifier())
        everything = (time.perf_counter() - started) * 1000
        print(f"posts in the database: {POSTS}, entries per feed: {settings.feeds.entries}")
        print(
            f"build RSS + Atom + JSON Feed (query included): median {median:.1f} ms, "
            f"best {min(times):.1f} ms over {args.rounds} rounds; limit {BUILD_LIMIT_MS:.0f} ms; "
            f"ratio limit/measured {BUILD_LIMIT_MS / median:.2f} (goal >= 1)"
        )
        print(
            f"full rebuild of every feed (site, {len(TOPICS)} topics, archive): {everything:.0f} ms"
        )
        packing, identity_size, gzip_size = time_gzip(runtime, args.rounds)
        print(
            f"gzip of /feed.xml, once per stored version and process: median {packing:.1f} ms; "
            f"{identity_size} -> {gzip_size} bytes, ratio gzip/identity "
            f"{gzip_size / identity_size:.2f}"
        )
        if not (shutil.which("nginx") and shutil.which("wrk")):
            print("serving: skipped (nginx and wrk are needed: apt-get install nginx-light wrk)")
            return
        app_200, nginx_200, app_304, nginx_304, app_gzip = serve_and_measure(
            runtime, tmp, args.seconds, args.connections
        )
        size = len((tmp / "public" / "feed.xml").read_bytes())
        print(
            f"serving /feed.xml ({size} bytes), `newsletter serve` (1 process) vs 1 nginx worker, "
            f"wrk -c{args.connections} for {args.seconds}s each, from a second process:"
        )
        print(
            f"  200: app {app_200:,.0f} req/s, nginx {nginx_200:,.0f} req/s, "
            f"ratio {app_200 / nginx_200:.2f} (goal >= {SERVE_GOAL})"
        )
        print(
            f"  304: app {app_304:,.0f} req/s, nginx {nginx_304:,.0f} req/s, "
            f"ratio {app_304 / nginx_304:.2f} (goal >= {SERVE_GOAL})"
        )
        print(
            f"  200 gzip vs identity, app: {app_gzip:,.0f} vs {app_200:,.0f} req/s, "
            f"ratio gzip/identity {app_gzip / app_200:.2f} (gzip made once, not per request)"
        )
        ceiling = server_ceiling(args.seconds, args.connections)
        print(
            f"  for scale: a do-nothing ASGI app on the same granian answers {ceiling:,.0f} req/s; "
            f"the app's 304s reach {app_304 / ceiling:.2f} of that"
        )
        runtime.close()


if __name__ == "__main__":
    main()
