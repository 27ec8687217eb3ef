"""Benchmark: send one issue to 100,000 subscribers (--big: 1,000,000) through a local SMTP sink.

The issue is sent twice, each time afresh: by `newsletter digest send --processes N` (N from
--processes, default the CPU count; goal >= 0.40 of smtp-source on a 2-core machine) and by
`--processes 1` (goal >= 0.20). In the same run, Postfix's smtp-source sends as many messages
of the same size to the same smtp-sink with 20 sessions; the script prints the three rates, the
ratios and each sending process's peak memory (goal <= 100 MB for 1M). The senders are the real
command and its child processes; each one's peak is the high-water mark of its own address
space (VmHWM), read every 20 ms while it runs. (getrusage's figure for children would not do: a
child's maxrss starts at the parent's high-water mark, because exec carries it over from the
address space it replaces.)

With --workers 1,2,4 (PostgreSQL and Redis needed: --database-url, --redis-url) it sends the
same issue through 1, 2 and 4 `newsletter worker` processes instead, each run on a fresh schema,
beside the in-process `digest send` on the same database, and prints the scaling ratio; then it
sends once more through the most workers and SIGKILLs one a third of the way in, and prints how
long the rows it held waited.

With --cadences (bench/deliver_cadences.py) it sends, on one database, a weekly issue to N
weekly readers, a daily issue alone, then a daily issue to N daily readers while a stream of
single-story issues goes to N/10 each-story readers beside it, one `digest send` each, and
prints each rate, daily/weekly and smtp-source's rate in the same run. Measured on this machine
(2 cores, `--processes 2`; a test suite ran beside most runs, load average 1.5 to 6), SQLite:
20,000 readers: weekly 2,614 msg/s, daily alone 2,678 (1.02 of weekly), daily with the stream
beside it 2,069 (0.79), the stream 939 (5 stories of 2,000), both together 2,816, smtp-source
10,291; 100,000: weekly 2,106, daily alone 2,128 (1.01), daily with the stream 1,487 (0.71), the
stream 875 (6 stories of 10,000), together 2,332, smtp-source 5,739. PostgreSQL, 100,000: 1,365,
1,300 (0.95), 831 (0.61), 497, 1,326, 6,034. The daily kind sends at the weekly's rate; with the
stream beside it the daily send gets 0.53 to 0.79 of it over eight runs: the stream's sends take
their share of the same two cores, and the two together send about what the weekly does alone.

smtp-sink and smtp-source come from Debian's postfix package, unpacked without installing:
    apt-get download postfix && dpkg-deb -x postfix_*.deb /tmp/postfix
    python bench/deliver.py --postfix /tmp/postfix [--processes 2] [--count 20000]
    python bench/deliver.py --cadences --count 20000 [--database-url postgresql+psycopg://...]
    python bench/deliver.py --workers 1,2,4 --count 20000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/newsletter_test \
        --redis-url redis://127.0.0.1:6379/12
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from newsletter import migrate
from newsletter.config import load_settings
from newsletter.digest.placeholders import html_marker, marker
from newsletter.models import IssueStatus
from newsletter.runtime import Runtime
from tests import factories

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
SINK_SESSIONS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def teaser(n: int) -> str:
    return (
        f'<tr><td style="padding:12px 0;border-bottom:1px solid #ddd"><h2 style="font:bold 20px '
        f'Georgia,serif;margin:0"><a href="https://example.org/2026/11/story-{n}" style="color:'
        f'#1a1a1a">Story {n}: what the new border enforcement rules mean for families</a></h2>'
        f'<p style="font:16px/1.5 Arial,sans-serif;color:#333">A short excerpt of the story, '
        f"as the site's topic page shows it, two or three sentences long so that the digest "
        f'reads like the page.</p><a href="https://example.org/2026/11/story-{n}">Read more</a>'
        "</td></tr>\n"
    )


def variant(stories: range = range(12)) -> tuple[str, str]:
    """A digest's HTML and text with a teaser for each of `stories` (a single-story email: one)."""
    html = (
        f"<html><body><p>Dear {html_marker('name')},</p><table>"
        + "".join(teaser(n) for n in stories)
        + f'</table><p><a href="{html_marker("preferences_url")}">Preferences</a> · '
        f'<a href="{html_marker("unsubscribe_url")}">Unsubscribe</a></p></body></html>'
    )
    text = (
        f"Dear {marker('name')},\n\n"
        + "".join(
            f"Story {n}: what the new border enforcement rules mean for families\n"
            f"A short excerpt of the story, two or three sentences long.\n"
            f"Read more: https://example.org/2026/11/story-{n}\n\n"
            for n in stories
        )
        + f"Preferences: {marker('preferences_url')}\nUnsubscribe: {marker('unsubscribe_url')}\n"
    )
    return html, text


def setup_database(url: str, var: Path, count: int) -> int:
    settings = load_settings(database_url=url, var_dir=var)
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.engine)
    html, text = variant()
    subject = "This week in border enforcement"
    with runtime.sessions.begin() as session:
        issue = factories.issue(
            NOW,
            key="bench",
            status=IssueStatus.APPROVED,
            subject=subject,
            variants=[factories.variant(NOW, html, text, subject=subject)],
        )
        session.add(issue)
        session.flush()
        issue_id = issue.id
    factories.insert_readers(runtime.sessions, count, NOW)
    runtime.close()
    return issue_id


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []  # it exited meanwhile


def watch_peak(process: subprocess.Popen[bytes]) -> int:
    """Wait for the process; return its VmHWM in KiB, read every 20 ms while it ran."""
    return watch_peaks(process)[process.pid]


def watch_peaks(process: subprocess.Popen[bytes]) -> dict[int, int]:
    """Wait for the process; return the VmHWM in KiB of it and of each child process it started
    (`digest send --processes N`), by pid, read every 20 ms while they ran."""
    peaks: dict[int, int] = {process.pid: 0}
    while process.poll() is None:
        for pid in [process.pid, *_children(process.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
            except (OSError, ValueError):
                pass  # it exited between the listing and the read
        time.sleep(0.02)
    return peaks


def postfix_env(root: Path) -> dict[str, str]:
    return {**os.environ, "LD_LIBRARY_PATH": str(root / "usr/lib/postfix")}


def start_sink(root: Path, port: int) -> subprocess.Popen[bytes]:
    sink = subprocess.Popen(
        [str(root / "usr/sbin/smtp-sink"), "-u", "nobody", f"127.0.0.1:{port}", "1024"],
        env=postfix_env(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink
        except OSError:
            time.sleep(0.05)
    sink.kill()
    raise SystemExit(f"smtp-sink did not start: {sink.stderr.read() if sink.stderr else ''!r}")


def smtp_source(root: Path, port: int, count: int, size: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            str(root / "usr/sbin/smtp-source"),
            "-s",
            str(SINK_SESSIONS),
            "-m",
            str(count),
            "-l",
            str(size),
            "-f",
            "bounces@example.org",
            "-t",
            "reader@example.net",
            f"127.0.0.1:{port}",
        ],
        env=postfix_env(root),
        check=True,
    )
    return count / (time.perf_counter() - start)


def _schema_url(base: str, schema: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def sender_env(url: str, var: Path, port: int, connections: int) -> dict[str, str]:
    """The environment of a `newsletter` process sending to the sink, and nothing else's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    return env | {
        "NEWSLETTER_DATABASE_URL": url,
        "NEWSLETTER_VAR_DIR": str(var),
        # A real key: the settings refuse one shorter than 32 bytes.
        "NEWSLETTER_SECRET_KEY": secrets.token_urlsafe(48),
        "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "NEWSLETTER_DELIVERY__CONNECTIONS": str(connections),
    }


def _kill_one_and_time_recovery(url: str, victim: subprocess.Popen[bytes], count: int) -> None:
    """SIGKILL a worker a third of the way in; print how long until the rows it held were sent
    (they wait for its claims to run out: delivery.claim_seconds after its last renewal)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    sent = text("SELECT count(*) FROM deliveries WHERE status = 'sent'")
    open_rows = "status IN ('pending', 'deferred')"
    held = text(f"SELECT id FROM deliveries WHERE claimed_by LIKE :holder AND {open_rows}")
    waiting = text(f"SELECT count(*) FROM deliveries WHERE id = ANY(:ids) AND {open_rows}")
    with engine.connect() as db:
        while (db.scalar(sent) or 0) < count // 3:
            time.sleep(0.05)
            db.rollback()
        victim.kill()
        victim.wait()
        killed = time.perf_counter()
        stranded = list(db.scalars(held, {"holder": f"worker:%:{victim.pid}:%"}))
        db.rollback()
        if not stranded:
            print("  (the killed worker held no rows at that moment)")
            return
        while db.scalar(waiting, {"ids": stranded}):
            time.sleep(0.1)
            db.rollback()
    engine.dispose()
    print(
        f"  one worker SIGKILLed: its {len(stranded)} claimed rows were all sent "
        f"{time.perf_counter() - killed:.1f} s later "
        "(claims of 20 s renewed every 7 s, then a lane's poll)",
        flush=True,
    )


def run_once(
    args: argparse.Namespace, count: int, port: int, workers: int, kill: bool = False
) -> float:
    """Messages per second of one send: in-process (workers == 0) or through N workers, one of
    which is SIGKILLed a third of the way in when `kill`."""
    schema = f"bench_deliver_{os.getpid()}_{workers}"
    url = _schema_url(args.database_url, schema)
    newsletter = str(Path(sys.executable).parent / "newsletter")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            var = Path(folder) / "var"
            issue_id = setup_database(url, var, count)
            env = sender_env(url, var, port, args.connections)
            if workers:
                env |= {
                    "NEWSLETTER_BROKER_URL": args.redis_url,
                    "NEWSLETTER_DELIVERY__REDIS_PREFIX": f"bench-{os.getpid()}-{workers}",
                    "NEWSLETTER_DELIVERY__LANES": str(workers * 2 + 2),
                    "NEWSLETTER_DELIVERY__CLAIM_SIZE": "500",
                }
                for _ in range(workers):
                    procs.append(
                        subprocess.Popen(
                            [
                                newsletter,
                                "worker",
                                "--pool",
                                "threads",
                                "--concurrency",
                                "2",
                                "--loglevel",
                                "warning",
                            ],
                            env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                        )
                    )
                time.sleep(3)  # let them connect to the broker before the clock starts
            start = time.perf_counter()
            sender = subprocess.Popen(
                [newsletter, "digest", "send", str(issue_id), "--processes", "1"],
                env=env,
                stdout=subprocess.DEVNULL,
            )
            if kill:
                _kill_one_and_time_recovery(url, procs[0], count)
            if sender.wait() != 0:
                raise SystemExit("digest send failed")
            return count / (time.perf_counter() - start)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()
        _drop_schema(args.database_url, schema)


def main_workers(args: argparse.Namespace) -> None:
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("--workers needs --database-url postgresql+psycopg://...")
    if not args.redis_url:
        raise SystemExit("--workers needs --redis-url redis://127.0.0.1:6379/N")
    count = args.count or 20_000
    counts = [int(n) for n in args.workers.split(",")]
    port = free_port()
    sink = start_sink(args.postfix, port)
    try:
        print(f"{count:,} subscribers, PostgreSQL, Postfix smtp-sink, {os.cpu_count()} CPUs")
        local = run_once(args, count, port, 0)
        print(f"in-process digest send:  {local:,.0f} msg/s ({args.connections} connections)")
        rates: dict[int, float] = {}
        for n in counts:
            rates[n] = run_once(args, count, port, n)
            print(f"{n} worker process(es):    {rates[n]:,.0f} msg/s", flush=True)
        killed = max(counts)
        if killed >= 2:
            rate = run_once(args, count, port, killed, kill=True)
            print(f"{killed} workers, one killed:  {rate:,.0f} msg/s", flush=True)
    finally:
        sink.terminate()
        sink.wait()
    base = rates[counts[0]]
    for n in counts:
        print(
            f"scaling {counts[0]} → {n} workers: {rates[n] / base:.2f}x "
            f"(ideal {n / counts[0]:.0f}x); vs in-process {rates[n] / local:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="1,000,000 subscribers")
    parser.add_argument("--count", type=int, help="subscribers (default 100,000)")
    parser.add_argument("--postfix", type=Path, default=Path("/tmp/postfix"))
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--workers", help="comma-separated worker counts, e.g. 1,2,4")
    parser.add_argument("--redis-url", help="broker for --workers, e.g. redis://127.0.0.1:6379/12")
    parser.add_argument(
        "--processes", type=int, help="digest send --processes N (default: the CPU count)"
    )
    parser.add_argument(
        "--cadences",
        action="store_true",
        help="a weekly digest, then a daily one with the story stream beside it",
    )
    args = parser.parse_args()
    if args.cadences:
        if not (args.postfix / "usr/sbin/smtp-source").exists():
            raise SystemExit(f"no smtp-source under {args.postfix}; see the docstring")
        from deliver_cadences import main_cadences

        main_cadences(args)
        return
    if args.workers:
        if not (args.postfix / "usr/sbin/smtp-sink").exists():
            raise SystemExit(f"no smtp-sink under {args.postfix}; see the docstring")
        main_workers(args)
        return
    count = args.count or (1_000_000 if args.big else 100_000)
    if not (args.postfix / "usr/sbin/smtp-source").exists():
        raise SystemExit(
            f"no smtp-source under {args.postfix}; run: apt-get download postfix && "
            f"dpkg-deb -x postfix_*.deb {args.postfix}"
        )
    processes = args.processes or os.cpu_count() or 1
    html, text = variant()
    size = len(html) * 1.1 + len(text) * 1.1 + 1500  # QP and headers add about this
    port = free_port()
    sink = start_sink(args.postfix, port)
    try:
        print(f"{count:,} subscribers, {os.cpu_count()} CPUs, Postfix smtp-sink", flush=True)
        many = send_once(args, count, port, processes)
        one = send_once(args, count, port, 1) if processes > 1 else many
        theirs = smtp_source(args.postfix, port, count, int(size))
    finally:
        sink.terminate()
        sink.wait()
    print(f"messages:               {count:,} of about {int(size):,} bytes")
    for label, run in ((f"{processes} processes", many), ("1 process", one)):
        if label == "1 process" and processes == 1:
            continue
        print(
            f"digest send, {label + ':':12} {run.rate:,.0f} msg/s "
            f"({args.connections} connections each), ratio {run.rate / theirs:.2f}; peak memory "
            f"per sending process {run.peak_mb:.0f} MB (command {run.parent_mb:.0f} MB)"
        )
    print(f"postfix smtp-source:    {theirs:,.0f} msg/s ({SINK_SESSIONS} sessions)")
    print(
        f"ratio:                  {many.rate / theirs:.2f} with {processes} processes "
        f"(goal >= 0.40), {one.rate / theirs:.2f} with 1 (goal >= 0.20)"
    )
    print("peak memory goal: <= 100 MB per process for 1,000,000")


@dataclass
class Run:
    rate: float  # messages per second
    peak_mb: float  # the largest sending process's high-water mark
    parent_mb: float  # the command's own (with N > 1 it only watches)


def send_once(args: argparse.Namespace, count: int, port: int, processes: int) -> Run:
    """One `digest send --processes N` of a fresh issue to `count` subscribers into the sink."""
    with tempfile.TemporaryDirectory() as folder:
        var = Path(folder) / "var"
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        schema = f"bench_deliver_{os.getpid()}_p{processes}"
        if url.startswith("postgresql"):
            url = _schema_url(args.database_url, schema)
        try:
            print(f"setting up {count:,} subscribers ...", flush=True)
            issue_id = setup_database(url, var, count)
            env = sender_env(url, var, port, args.connections)
            newsletter = str(Path(sys.executable).parent / "newsletter")
            command = [newsletter, "digest", "send", str(issue_id), "--processes", str(processes)]
            start = time.perf_counter()
            sender = subprocess.Popen(command, env=env)
            peaks = watch_peaks(sender)
            rate = count / (time.perf_counter() - start)
            if sender.returncode != 0:
                raise SystemExit(f"digest send exited with {sender.returncode}")
        finally:
            if url.startswith("postgresql"):
                _drop_schema(args.database_url, schema)
    parent = peaks.pop(sender.pid) / 1024
    senders = [kib / 1024 for kib in peaks.values()] or [parent]
    return Run(rate, max(senders), parent)


if __name__ == "__main__":
    main()
