"""Benchmark of the streamed list commands on the data set of `bench_tui.py` (SQLite).

Run: ``.venv/bin/python bench/bench_lists.py [--db PATH] [--runs N]``. The data set is the one
`bench_tui.py` builds (100,000 sessions, 1,000,000 enrolments), built once and kept at PATH.
Each command runs as a whole process, alternating with its baseline: ``sqlite3 -json`` printing
the same rows with their enrolment counts, course, trainer, visibility and materials. Printed:
the median wall time, the baseline's, the median of the pairwise ratios, and the peak RSS.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROLLCALL = str(Path(sys.executable).with_name("rollcall"))
LEARNER = "person19999@example.org"
"""A person of the data set on few sessions: `available` lists about half of them."""

DUMP = """
SELECT s.id, s.title, c.title AS course, s.description, s.start, s."end", s.duration_minutes,
  s.type, s.location, s.online_url, p.email AS trainer, s.max_attendees,
  (SELECT count(*) FROM enrolment e WHERE e.session_id = s.id
     AND e.status IN ('enrolled', 'attended', 'no_show')) AS enrolled,
  (SELECT count(*) FROM enrolment e WHERE e.session_id = s.id
     AND e.status = 'waitlisted') AS waitlisted,
  s.cancelled_at, s.finalised_at, s.cancel_reason,
  (SELECT json_group_array(json_object('dimension', v.dimension, 'value', v.value))
     FROM session_visibility v WHERE v.session_id = s.id) AS visibility,
  (SELECT json_group_array(json_object('name', m.name, 'url', m.url))
     FROM material m WHERE m.session_id = s.id) AS materials,
  s.expiry_months, s.series_id, s.uid, s.sequence
FROM session s JOIN course c ON c.id = s.course_id
LEFT JOIN trainer t ON t.id = s.trainer_id LEFT JOIN person p ON p.id = t.person_id
ORDER BY s.start, s.id;
"""


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one whole process; its output discarded."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(argv, stdout=sink, env=env)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[:4]} failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def compare(name: str, argv: list[str], baseline: list[str], runs: int, env: dict[str, str]) -> str:
    """Alternate the command and its baseline `runs` times; one line of figures."""
    mine, theirs, ratios, peaks, cpus, base_cpus, cpu_ratios = [], [], [], [], [], [], []
    for _ in range(runs):
        wall, cpu, peak = run(argv, env)
        base, base_cpu, _ = run(baseline, env)
        mine.append(wall)
        theirs.append(base)
        ratios.append(wall / base)
        peaks.append(peak)
        cpus.append(cpu)
        base_cpus.append(base_cpu)
        cpu_ratios.append(cpu / max(base_cpu, 0.001))
    median = statistics.median
    return (
        f"- {name}: wall {median(mine):.2f} s, cpu {median(cpus):.2f} s, peak {max(peaks)} MB; "
        f"baseline sqlite3 -json: wall {median(theirs):.2f} s, cpu {median(base_cpus):.2f} s; "
        f"ratio wall {median(ratios):.1f}x (runs {min(ratios):.1f}-{max(ratios):.1f}x), "
        f"cpu {median(cpu_ratios):.1f}x"
    )


def main() -> None:
    """Build or reuse the data set, then print each figure with its baseline and ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="/tmp/rollcall-bench-tui.db")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = Path(args.db)
    if not path.exists():
        sys.path.insert(0, str(HERE.parent))
        from bench.bench_tui import build

        print(f"building the data set at {path}: {build(path):.0f} s", flush=True)
    env = {**os.environ, "ROLLCALL_DB": f"sqlite:///{path}", "ROLLCALL_TIMEZONE": "Europe/London"}
    dump = ["sqlite3", "-json", str(path), DUMP]
    print(f"{path}; load average {os.getloadavg()[0]:.1f}; median of {args.runs} runs", flush=True)
    for name, argv in (
        ("session list --json", [ROLLCALL, "session", "list", "--json"]),
        ("available EMAIL --json", [ROLLCALL, "available", LEARNER, "--json"]),
    ):
        print(compare(name, argv, dump, args.runs, env), flush=True)
    print(f"load average after {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
