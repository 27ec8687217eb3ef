"""Import 100,000 generated CSV rows (1% invalid) into a fresh SQLite database; print the rate.

Usage: .venv/bin/python bench/import.py [ROWS]

The CPU figure (this process's CPU time) holds steady on a shared machine where the wall-clock
rate does not; compare it between changes.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from newsletter import migrate
from newsletter.config import load_settings
from newsletter.models import Topic
from newsletter.runtime import Runtime
from subscribers.csv_import import import_csv

GOAL = 20_000  # rows per second


def generate(path: Path, rows: int) -> None:
    topics = ["", "asylum", "border-enforcement", "asylum;border-enforcement"]
    with path.open("w", encoding="utf-8") as out:
        out.write("email,name,topics,city\n")
        for n in range(rows):
            email = f"not-an-address-{n}" if n % 100 == 99 else f"reader{n}@example{n % 50}.org"
            out.write(f"{email},Reader {n},{topics[n % 4]},City {n % 300}\n")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "subscribers.csv"
        generate(csv_path, rows)
        settings = load_settings(database_url=f"sqlite:///{folder}/bench.db", var_dir=folder)
        runtime = Runtime.build(settings)
        migrate.upgrade(runtime.engine)
        with runtime.sessions.begin() as session:
            session.add_all(
                [
                    Topic(slug="asylum", name="Asylum"),
                    Topic(slug="border-enforcement", name="Border Enforcement"),
                ]
            )
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started, cpu_started = time.perf_counter(), time.process_time()
        with csv_path.open("rb") as stream:
            report = import_csv(
                runtime.sessions, stream, datetime.now(UTC), confirmed=True, source="bench"
            )
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        runtime.close()
    rate = report.rows / elapsed
    print(f"rows: {report.rows} ({report.imported} imported, {len(report.rejected)} rejected)")
    print(f"time: {elapsed:.2f} s; CPU {cpu:.2f} s ({report.rows / cpu:,.0f} rows per CPU second)")
    print(f"rate: {rate:,.0f} rows/s; goal {GOAL:,} rows/s; ratio {rate / GOAL:.2f}")
    print(
        f"peak memory (max RSS): {peak_kib / 1024:.0f} MiB ({before / 1024:.0f} MiB before import)"
    )


if __name__ == "__main__":
    main()
