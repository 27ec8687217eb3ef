"""Clicks benchmark: a burst on /r/ links through `newsletter serve` beside nginx's same 302s.

Clients are as a service behind its TLS proxy sees them: each click from an address of its
own (X-Forwarded-For, believed from 127.0.0.1 as `[web] forwarded_allow_ips` says by default)
with one of a dozen mail apps' and browsers' user agents; one click in ten is a link scanner's.

First an exact burst: REQUESTS clicks from as many clients, sent 100 at a time; the service
is then stopped (its last batch written) and the database must hold every reader's click once
and every scanner's as filtered. Then the rate: wrk through the same links against the service
and against nginx answering the same 302s from its config, ROUNDS times in turn (the best of
each is printed, so that a busy machine's worst moments are left out of both alike), with the
CPU time each server spent per request. Goal: >= 0.25 of nginx's requests per second.
Run: .venv/bin/python bench/clicks.py [--seconds 5] [--connections 32] [--requests 5000]
Needs nginx (Debian's nginx-light) and wrk on PATH for the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feeds import NGINX_CONF, free_port, start_serve, wait_for, wrk

from newsletter import migrate
from newsletter.analytics.store import counted
from newsletter.config import load_settings
from newsletter.digest.build import build_issue
from newsletter.models import IssueLink, IssueStatus, IssueVariant, Post, Topic
from newsletter.runtime import Runtime

GOAL = 0.25
# `newsletter serve` loads the whole app: on a busy machine that takes more than the default wait.
STARTUP_SECONDS = 90.0
STORIES = 8
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel)"
_HREF = re.compile(r'href="[^"]*?(/r/[A-Za-z0-9_-]+)"')

# What readers' mail apps and browsers send (a mix as a newsroom's list has them).
AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36 GSA/15.4",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148",
)

LUA = """
local paths = {{ {paths} }}
local agents = {{ {agents} }}
local counter = 0
request = function()
  counter = counter + 1
  local agent = agents[(counter % #agents) + 1]
  if counter % 10 == 0 then agent = "{scanner}" end
  local address = string.format("10.%d.%d.%d", math.floor(counter / 65536) % 256,
    math.floor(counter / 256) % 256, counter % 256)
  return wrk.format("GET", paths[(counter % #paths) + 1],
    {{["User-Agent"] = agent, ["X-Forwarded-For"] = address}})
end
"""


def address(n: int) -> str:
    """Click n's client address: one of its own, as the proxy in front would forward it."""
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def sent_issue(tmp: Path) -> tuple[Runtime, int, dict[str, str]]:
    """A fresh database with a sent issue of STORIES stories: its id and /r/ path → target."""
    tmp.chmod(0o755)
    settings = load_settings(database_url=f"sqlite:///{tmp / 'bench.db'}", var_dir=tmp / "var")
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.engine)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        session.add(Topic(slug="asylum", name="Asylum", description=""))
        for n in range(STORIES):
            at = now - timedelta(hours=n + 1)
            url = f"https://demo.example.org/posts/{n}"
            session.add(
                Post(
                    url=url,
                    content_hash=f"{n:064d}",
                    title=f"Story {n}",
                    teaser="A teaser.",
                    published_at=at,
                    updated_at=at,
                    first_seen_at=at,
                )
            )
        session.flush()
        result = build_issue(session, settings, now, topic_keys=[""], click_key=runtime.signing_key)
        variant = session.scalars(
            select(IssueVariant).where(IssueVariant.issue_id == result.issue_id)
        ).one()
        variant.issue.status = IssueStatus.SENT
        variant.issue.sent_at = now
        links = {
            link.position: link
            for link in session.scalars(
                select(IssueLink).where(IssueLink.issue_id == result.issue_id)
            )
        }
        stories = {link.url for link in links.values() if link.kind == "story"}
        paths = {}
        for path in dict.fromkeys(_HREF.findall(variant.html)):
            target = _target(runtime, links, path)
            if target in stories:
                paths[path] = target
    assert result.issue_id is not None
    assert len(paths) == STORIES, paths
    return runtime, result.issue_id, paths


def _target(runtime: Runtime, links: dict[int, IssueLink], path: str) -> str:
    from newsletter.clicktokens import read_click_token

    click = read_click_token(runtime.verification_keys, path.removeprefix("/r/"))
    assert click is not None
    return links[click.position].url


async def burst(port: int, paths: list[str], requests: int, concurrency: int) -> tuple[int, int]:
    """Every request from a client of its own (its user agent), over `concurrency` kept-alive
    connections; returns (readers', scanners') redirects seen. Raw HTTP/1.1, so that the
    client is not what limits the burst."""
    readers = scanners = 0
    numbers = iter(range(1, requests + 1))

    async def worker() -> None:
        nonlocal readers, scanners
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n in numbers:
                scanner = n % 10 == 0
                agent = SCANNER if scanner else AGENTS[n % len(AGENTS)]
                writer.write(
                    f"GET {paths[n % len(paths)]} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"User-Agent: {agent}\r\nX-Forwarded-For: {address(n)}\r\n\r\n".encode()
                )
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                if not head.startswith(b"HTTP/1.1 302 ") or b"content-length: 0" not in head:
                    raise SystemExit(f"click {n}: {head[:200]!r}")
                if scanner:
                    scanners += 1
                else:
                    readers += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return readers, scanners


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM: the server's graceful shutdown, in which the click writer writes its last batch."""
    process.terminate()
    process.wait(30)


def exact_burst(runtime: Runtime, issue_id: int, paths: list[str], requests: int) -> None:
    port = free_port()
    app = start_serve(runtime, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", STARTUP_SECONDS)
        started = time.perf_counter()
        readers, scanners = asyncio.run(burst(port, paths, requests, 100))
        elapsed = time.perf_counter() - started
    finally:
        stop(app)
    with runtime.sessions() as session:
        figures = counted(session, issue_id)
    made = readers + scanners
    print(
        f"exact burst: {made:,} clicks from {made:,} clients, 100 at a time, in {elapsed:.1f} s "
        f"({made / elapsed:,.0f} req/s); {scanners:,} of them marked as scanners"
    )
    ok = figures.get("human", 0) == made - scanners and figures.get("scanner", 0) == scanners
    print(
        f"  in the database: {figures.get('human', 0):,} human (expected {made - scanners:,}), "
        f"{figures.get('scanner', 0):,} scanner (expected {scanners:,}), "
        f"other verdicts {sum(v for k, v in figures.items() if k not in ('human', 'scanner'))}: "
        f"{'every click counted exactly once' if ok else 'MISMATCH'}"
    )
    if not ok:
        raise SystemExit(1)


NGINX_CLICKS = """
        location = /healthz {{ return 200 "ok"; }}
{locations}
"""


@dataclass(frozen=True)
class Rate:
    per_second: float
    cpu_us: float  # the server's own CPU time (user + system) per request, in microseconds


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far, all its threads, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, url: str, seconds: int, connections: int, script: Path) -> Rate:
    before = cpu_seconds(pid)
    per_second = wrk(url, seconds, connections, script=script)
    spent = cpu_seconds(pid) - before
    return Rate(per_second, spent / (per_second * seconds) * 1e6)


def rate(
    runtime: Runtime,
    tmp: Path,
    paths: dict[str, str],
    seconds: int,
    connections: int,
    rounds: int,
) -> tuple[list[Rate], list[Rate]]:
    script = tmp / "clicks.lua"
    quoted = ", ".join(f'"{path}"' for path in paths)
    agents = ", ".join(f'"{agent}"' for agent in AGENTS)
    script.write_text(LUA.format(paths=quoted, agents=agents, scanner=SCANNER))
    locations = "\n".join(
        f'        location = {path} {{ return 302 "{target}"; }}' for path, target in paths.items()
    )
    public = tmp / "public"
    public.mkdir(exist_ok=True)
    conf = NGINX_CONF.format(tmp=tmp, port="{port}", root=public)
    app_port, nginx_port = free_port(), free_port()
    conf = conf.replace("{port}", str(nginx_port)).replace(
        "add_header Cache-Control",
        NGINX_CLICKS.format(locations=locations) + "add_header Cache-Control",
    )
    (tmp / "nginx.conf").write_text(conf)
    app = start_serve(runtime, app_port)
    nginx = subprocess.Popen(["nginx", "-c", str(tmp / "nginx.conf"), "-p", str(tmp)])
    try:
        wait_for(f"http://127.0.0.1:{app_port}/healthz", STARTUP_SECONDS)
        wait_for(f"http://127.0.0.1:{nginx_port}/healthz")
        first = next(iter(paths))
        app_302 = httpx.get(f"http://127.0.0.1:{app_port}{first}")
        nginx_302 = httpx.get(f"http://127.0.0.1:{nginx_port}{first}")
        assert app_302.status_code == nginx_302.status_code == 302
        assert app_302.headers["location"] == nginx_302.headers["location"], "not the same 302"
        # The worker does the serving; the master only waits.
        workers = subprocess.run(
            ["pgrep", "-P", str(nginx.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        (worker,) = (int(pid) for pid in workers)
        apps, nginxes = [], []
        for _ in range(rounds):
            app_url, nginx_url = f"http://127.0.0.1:{app_port}/", f"http://127.0.0.1:{nginx_port}/"
            apps.append(measured(app.pid, app_url, seconds, connections, script))
            nginxes.append(measured(worker, nginx_url, seconds, connections, script))
        return apps, nginxes
    finally:
        stop(app)
        nginx.terminate()
        nginx.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.requests < 10 or args.requests > 1_000_000:
        raise SystemExit("--requests: between 10 and 1,000,000")
    with tempfile.TemporaryDirectory(prefix="bench-clicks-") as name:
        tmp = Path(name)
        runtime, issue_id, paths = sent_issue(tmp)
        exact_burst(runtime, issue_id, list(paths), args.requests)
        if not (shutil.which("nginx") and shutil.which("wrk")):
            print("rate: skipped (nginx and wrk are needed: apt-get install nginx-light wrk)")
            return
        apps, nginxes = rate(runtime, tmp, paths, args.seconds, args.connections, args.rounds)
        print(
            f"rate on {len(paths)} story links, a new client per click (1 in 10 a scanner), "
            f"`newsletter serve` (1 process) vs 1 nginx worker, wrk -c{args.connections} "
            f"for {args.seconds}s each, {args.rounds} rounds in turn:"
        )
        for n, (ours, theirs) in enumerate(zip(apps, nginxes, strict=True), 1):
            print(
                f"  round {n}: app {ours.per_second:,.0f} req/s ({ours.cpu_us:.0f} us CPU each), "
                f"nginx {theirs.per_second:,.0f} req/s ({theirs.cpu_us:.0f} us CPU each)"
            )
        best, best_nginx = max(r.per_second for r in apps), max(r.per_second for r in nginxes)
        cpu, cpu_nginx = min(r.cpu_us for r in apps), min(r.cpu_us for r in nginxes)
        print(
            f"  302, best of each: app {best:,.0f} req/s, nginx {best_nginx:,.0f} req/s, "
            f"ratio {best / best_nginx:.2f} (goal >= {GOAL})"
        )
        print(
            f"  CPU per request, least of each: app {cpu:.0f} us, nginx {cpu_nginx:.0f} us: "
            f"per core the app answers {cpu_nginx / cpu:.2f} of nginx's rate"
        )
        runtime.close()


if __name__ == "__main__":
    main()
