"""Run every benchmark and print one table.

    python -m bench                 # quick: a few seconds per figure (what `make bench` runs)
    python -m bench --full          # the durations the README's figures were measured with
    python -m bench events agenda   # only these
    python -m bench --list

Each benchmark sets up its own database on the embedded PostgreSQL (or DATABASE_URL's server)
and drops it afterwards. Load: wrk when installed, else an asyncio httpx loop."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import pkgutil
import shutil
import sys
import time
import traceback

import bench
from app.clock import clock
from bench.registry import BENCHMARKS, Figure

NOT_BENCHMARKS = {"registry", "__main__", "common"}


def discover() -> None:
    for module in pkgutil.iter_modules(bench.__path__):
        if module.name not in NOT_BENCHMARKS:
            importlib.import_module(f"bench.{module.name}")


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def render(rows: list[tuple[str, Figure]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="casusoverleg benchmarks", show_lines=False)
    for column in ("benchmark", "figure", "result", "bare baseline (same run)", "ratio", "goal", "met"):
        table.add_column(column, justify="right" if column in ("result", "ratio") else "left")
    for name, f in rows:
        baseline = f"{_number(f.baseline, f.unit)} ({f.baseline_what})" if f.baseline is not None else "–"
        met = {True: "yes", False: "NO", None: ""}[f.met]
        table.add_row(name, f.what, _number(f.value, f.unit), baseline,
                      f"{f.ratio:.2f}" if f.ratio is not None else "–", f.goal, met)
    Console(width=max(160, shutil.get_terminal_size().columns)).print(table)


def main() -> int:
    # The servers the benchmarks start (in this process or as children) log warnings only.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--full", action="store_true", help="the long runs (minutes) instead of quick ones")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args()
    discover()
    if args.list:
        for b in BENCHMARKS.values():
            print(f"{b.name:12} {b.summary}")
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        print(f"python -m bench: unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}",
              file=sys.stderr)
        return 2
    chosen = [BENCHMARKS[n] for n in (args.names or BENCHMARKS)]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# {len(chosen)} benchmark(s), {'full' if args.full else 'quick'} runs, {os.cpu_count()} cores, "
          f"load average {load}, load generator {'wrk' if shutil.which('wrk') else 'httpx'}", flush=True)
    rows: list[tuple[str, Figure]] = []
    failed = []
    for b in chosen:
        started = time.monotonic()
        print(f"\n== {b.name}: {b.summary}", flush=True)
        try:
            figures = asyncio.run(b.collect(not args.full))
        except Exception:  # one broken benchmark does not hide the others' figures
            traceback.print_exc()
            failed.append(b.name)
            continue
        finally:
            clock.reset()  # a benchmark that froze the clock must not expire the next one's tokens
        rows.extend((b.name, f) for f in figures)
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    print()
    render(rows)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed or any(f.met is False and "must" in f.goal for _, f in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
