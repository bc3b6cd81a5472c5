"""The scale figures on PostgreSQL against the same figures on SQLite, in one run.

Run: ``.venv/bin/python bench/bench_postgres.py [--db PATH] [--runs N]``. Starts a private
PostgreSQL cluster the way the tests do (tests/servers/postgres.py), creates the schema with
`open_database`, copies the data set of `bench_tui.py` (100,000 sessions, 1,000,000
enrolments; built at PATH when missing) into it with COPY, then measures each figure on
PostgreSQL and on the SQLite file alternately: `session list --json` and `available --json`
(whole processes), the TUI figures of `bench_tui.py` (headless) and the start-up of
`bench_startup.py` (tmux). Each line gives both medians and the ratio PostgreSQL / SQLite.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.bench_lists import LEARNER, ROLLCALL, run  # noqa: E402

TABLES = ["person", "trainer", "course", "session", "enrolment"]
"""The tables the data set fills, in an order their foreign keys accept."""


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A private cluster and an empty database in it; yields the database URL."""
    from tests.servers.postgres import postgres_server

    fixture: Any = postgres_server
    servers = fixture.__wrapped__()  # the test fixture's generator, run by hand
    server = next(servers)
    try:
        yield server.create_database("rollcall_bench")
    finally:
        with contextlib.suppress(StopIteration):
            next(servers)


def copy_data(sqlite_path: Path, url: str) -> float:
    """Create the schema on `url` and COPY the data set's tables into it; seconds taken."""
    import psycopg2

    from store.db import close_database, open_database

    started = time.perf_counter()
    open_database(url)
    close_database()
    source = sqlite3.connect(sqlite_path)
    target = psycopg2.connect(url)
    with target, target.cursor() as cur:
        for table in TABLES:
            rows = source.execute(f'SELECT * FROM "{table}" ORDER BY id')
            names = [d[0] for d in rows.description]
            columns = ", ".join(f'"{n}"' for n in names)
            while True:
                chunk = rows.fetchmany(100_000)
                if not chunk:
                    break
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for row in chunk:
                    writer.writerow(["\\N" if v is None else v for v in row])
                buffer.seek(0)
                cur.copy_expert(
                    f"COPY \"{table}\" ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                    buffer,
                )
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )
    target.autocommit = True
    with target.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    target.close()
    source.close()
    return time.perf_counter() - started


def commands(sqlite: str, url: str, runs: int) -> list[str]:
    """The list commands on both databases, alternating; one line each."""
    lines = []
    for name, argv in (
        ("session list --json", [ROLLCALL, "session", "list", "--json"]),
        ("available EMAIL --json", [ROLLCALL, "available", LEARNER, "--json"]),
    ):
        on_pg, on_sqlite, ratios = [], [], []
        for _ in range(runs):
            base = {**os.environ, "ROLLCALL_TIMEZONE": "Europe/London"}
            wall_pg, _, peak = run(argv, {**base, "ROLLCALL_DB": url})
            wall_sqlite, _, peak_sqlite = run(argv, {**base, "ROLLCALL_DB": f"sqlite:///{sqlite}"})
            on_pg.append(wall_pg)
            on_sqlite.append(wall_sqlite)
            ratios.append(wall_pg / wall_sqlite)
        lines.append(
            f"- `{name}`: PostgreSQL {statistics.median(on_pg):.2f} s (peak {peak} MB), "
            f"SQLite {statistics.median(on_sqlite):.2f} s (peak {peak_sqlite} MB); ratio "
            f"{statistics.median(ratios):.2f}x (runs {min(ratios):.2f}-{max(ratios):.2f}x)"
        )
        print(lines[-1], flush=True)
    return lines


def tui(sqlite: str, url: str, runs: int) -> list[str]:
    """The figures of bench_tui.py on both databases, each run a fresh process, alternating."""
    figures: dict[str, dict[str, list[float]]] = {"pg": {}, "sqlite": {}}
    for _ in range(runs):
        for kind, db in (("pg", url), ("sqlite", sqlite)):
            out = subprocess.run(
                [sys.executable, str(HERE / "bench_tui.py"), "--db", db, "--json"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for name, value in json.loads(out.strip().splitlines()[-1]).items():
                figures[kind].setdefault(name, []).append(value)
    lines = []
    for name, values in figures["pg"].items():
        pg, lite = statistics.median(values), statistics.median(figures["sqlite"][name])
        if name.startswith("rows"):
            lines.append(f"- {name}: PostgreSQL {pg:,.0f}, SQLite {lite:,.0f}")
        else:
            lines.append(
                f"- {name}: PostgreSQL {pg:.3f}, SQLite {lite:.3f}; ratio {pg / lite:.2f}x"
            )
        print(lines[-1], flush=True)
    return lines


def startup(sqlite: str, url: str, runs: int) -> list[str]:
    """bench_startup.py on each database (its own baseline runs alternate with it)."""
    lines = []
    for kind, db in (("PostgreSQL", url), ("SQLite", sqlite)):
        out = subprocess.run(
            [sys.executable, str(HERE / "bench_startup.py"), "--db", db, "--runs", str(runs)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        lines.append(f"- start-up on {kind}:")
        lines += ["  " + line for line in out.strip().splitlines()[1:]]
        print("\n".join(lines[-5:]), flush=True)
    return lines


def main() -> None:
    """Start the cluster, copy the data set, print every figure on both databases."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="/tmp/rollcall-bench-tui.db")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--copy-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = Path(args.db)
    if not path.exists():
        from bench.bench_tui import build

        print(f"building the data set at {path}: {build(path):.0f} s", flush=True)
    if args.copy_to:
        print(f"{copy_data(path, args.copy_to):.1f}")
        return
    with postgres() as url:
        # The copy runs in a process of its own: a child forked from a process that grew
        # reports that size as its own peak memory.
        copied = subprocess.run(
            [sys.executable, __file__, "--db", str(path), "--copy-to", url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        print(f"copied the data set into PostgreSQL in {float(copied):.0f} s", flush=True)
        print(f"load average {os.getloadavg()[0]:.1f}; median of {args.runs} runs", flush=True)
        commands(str(path), url, args.runs)
        tui(str(path), url, args.runs)
        startup(str(path), url, max(args.runs, 5))
        print(f"load average after {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
