"""Start-up of `rollcall` in a real terminal against a minimal Textual app with a DataTable.

Run: ``.venv/bin/python bench/bench_startup.py [--db URL] [--runs N]``. Both programs are
launched alternately in a private tmux server (120x40), each as a whole process; the time is
from asking tmux for the window to the first table row on screen (``tmux capture-pane`` polled
every few milliseconds). The baseline is `bench/startup_baseline.py`: one DataTable of 40 rows.
Printed: the median of each, the median of the pairwise ratios, and the range of the ratios.
The data set defaults to the one `bench_tui.py` builds (100,000 sessions), built when missing.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
ROLLCALL = str(Path(sys.executable).with_name("rollcall"))
SOCKET = f"rollcall-bench-startup-{os.getpid()}"
ROW = re.compile(
    r"^ ?\S.*\b(Safety|Aid at Work|Essentials|Feedback|Managers|Conversations"
    r"|Coding|Well|Clinic|Confidence|Management|Basics) \d+ ",
    re.MULTILINE,
)
"""A table row of either program: a session title ends in its number."""


def tmux(*args: str) -> str:
    """Run a tmux command on the bench's private server; its output."""
    done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else ""


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / TICK


def first_row(command: str, env: dict[str, str], timeout: float = 60.0) -> tuple[float, float]:
    """Seconds from launching `command` in a new tmux window to a table row on screen.

    Returns the wall time and the CPU time the program had used by then.
    """
    tmux("kill-session", "-t", "bench")
    started = time.perf_counter()
    shown = subprocess.run(
        ["tmux", "-L", SOCKET, "new-session", "-d", "-P", "-F", "#{pane_pid}", "-s", "bench"]
        + ["-x", "120", "-y", "40", f"exec {command}"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    pid = int(shown.stdout.strip())
    while time.perf_counter() - started < timeout:
        if ROW.search(tmux("capture-pane", "-p", "-t", "bench")):
            took = time.perf_counter() - started
            cpu = cpu_seconds(pid)
            tmux("kill-session", "-t", "bench")
            return took, cpu
        time.sleep(0.003)
    screen = tmux("capture-pane", "-p", "-t", "bench")
    tmux("kill-session", "-t", "bench")
    raise SystemExit(f"no row on screen after {timeout} s:\n{screen}")


def main() -> None:
    """Alternate the two programs `--runs` times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="/tmp/rollcall-bench-tui.db", help="SQLite path or URL")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if "://" not in args.db and not Path(args.db).exists():
        sys.path.insert(0, str(HERE.parent))
        from bench.bench_tui import build

        print(f"building the data set at {args.db}: {build(Path(args.db)):.0f} s", flush=True)
    # An installed program runs from compiled bytecode: let both write and use it, as after
    # `pip install` (this machine's environment turns bytecode files off).
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "ROLLCALL_DB": args.db,
        "ROLLCALL_TIMEZONE": "Europe/London",
        "TERM": "xterm-256color",
    }
    # The server keeps one idle session so each launch only opens a window.
    subprocess.run(
        ["tmux", "-L", SOCKET, "new-session", "-d", "-s", "idle", "sleep", "3600"],
        check=True,
        env=env,
    )
    mine, theirs, ratios, cpus, base_cpus = [], [], [], [], []
    load_before = os.getloadavg()[0]
    try:
        # One unmeasured launch of each warms the file cache for both.
        first_row(f"{PYTHON} {HERE / 'startup_baseline.py'}", env)
        first_row(ROLLCALL, env)
        for _ in range(args.runs):
            base, base_cpu = first_row(f"{PYTHON} {HERE / 'startup_baseline.py'}", env)
            time.sleep(0.3)
            ours, cpu = first_row(ROLLCALL, env)
            time.sleep(0.3)
            theirs.append(base)
            mine.append(ours)
            ratios.append(ours / base)
            cpus.append(cpu)
            base_cpus.append(base_cpu)
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
    median = statistics.median
    print(
        f"{args.db}; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"median of {args.runs} alternating runs"
    )
    print(
        f"- rollcall to its first session row (s): {median(mine):.3f} "
        f"(runs {min(mine):.3f}-{max(mine):.3f})"
    )
    print(
        f"- minimal Textual app, 40-row DataTable, to its first row (s): {median(theirs):.3f} "
        f"(runs {min(theirs):.3f}-{max(theirs):.3f})"
    )
    print(f"- ratio: {median(ratios):.2f}x (runs {min(ratios):.2f}-{max(ratios):.2f}x)")
    print(
        f"- CPU time used by then (s): rollcall {median(cpus):.3f}, baseline "
        f"{median(base_cpus):.3f}, ratio {median(cpus) / median(base_cpus):.2f}x"
    )


if __name__ == "__main__":
    main()
