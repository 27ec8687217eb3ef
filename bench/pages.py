"""Pages benchmark: the home page and a topic page from `newsletter serve` beside nginx.

nginx serves the very bytes the service answered (saved to files), so the ratio is the cost of
serving them, not of what they say. Goal: >= 0.25 of nginx's requests per second, in one run.
Run: .venv/bin/python bench/pages.py [--seconds 5] [--connections 32]
Needs nginx (Debian's nginx-light) and wrk on PATH.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feeds import NGINX_CONF, free_port, seeded_runtime, start_serve, wait_for, wrk

from newsletter import catalog
from newsletter.publish.rebuild import rebuild
from newsletter.publish.websub import NoNotifier

GOAL = 0.25
PAGES = {"home": "/", "topic": "/topics/asylum"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not (shutil.which("nginx") and shutil.which("wrk")):
        raise SystemExit("nginx and wrk are needed: apt-get install nginx-light wrk")
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as name:
        tmp = Path(name)
        runtime = seeded_runtime(tmp)
        with runtime.sessions.begin() as session:
            catalog.sync(session, runtime.settings, runtime.clock.now())
        rebuild(runtime, None, NoNotifier())
        app_port, nginx_port = free_port(), free_port()
        app = start_serve(runtime, app_port)
        root = tmp / "public"
        nginx: subprocess.Popen[bytes] | None = None
        try:
            app_base = f"http://127.0.0.1:{app_port}"
            wait_for(app_base + "/")
            for path in PAGES.values():
                target = root / path.lstrip("/") / "index.html"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(httpx.get(app_base + path).content)
            conf = (
                NGINX_CONF.format(tmp=tmp, port=nginx_port, root=root)
                .replace("types {", "types { text/html html;")
                .replace(f"root {root};", f"root {root}; try_files $uri $uri/index.html =404;")
            )
            (tmp / "nginx.conf").write_text(conf)
            nginx = subprocess.Popen(["nginx", "-c", str(tmp / "nginx.conf"), "-p", str(tmp)])
            nginx_base = f"http://127.0.0.1:{nginx_port}"
            wait_for(nginx_base + "/")
            print(
                f"`newsletter serve` (1 process) vs 1 nginx worker serving the same bytes, "
                f"wrk -c{args.connections} for {args.seconds}s each, from a second process:"
            )
            for label, path in PAGES.items():
                served = httpx.get(app_base + path).content
                copied = httpx.get(nginx_base + path).content
                if served != copied:
                    import difflib

                    diff = difflib.unified_diff(
                        copied.decode().splitlines(), served.decode().splitlines(), lineterm=""
                    )
                    raise SystemExit("not the same bytes:\n" + "\n".join(list(diff)[:40]))
                app_rate = wrk(app_base + path, args.seconds, args.connections)
                nginx_rate = wrk(nginx_base + path, args.seconds, args.connections)
                print(
                    f"  {label} {path} ({len(served):,} bytes): app {app_rate:,.0f} req/s, "
                    f"nginx {nginx_rate:,.0f} req/s, ratio {app_rate / nginx_rate:.2f} "
                    f"(goal >= {GOAL})"
                )
        finally:
            for process in (app, nginx):
                if process is not None:
                    process.terminate()
                    process.wait(10)
        runtime.close()


if __name__ == "__main__":
    main()
