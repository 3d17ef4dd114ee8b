"""`python -m bench [--only append|command|replay|checkoff|delivery|printing|http] [--events N]` (or `make bench`): start
servers (embedded, or NATS_URL / DATABASE_URL), run the benchmarks, print a table and write
bench/results/latest.json — a list of {"name", "value", "unit", "baseline", "ratio"} (with --only, the
other benchmarks' last figures are kept).
See docs/benchmarks.md."""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
import traceback
from datetime import datetime, timezone

from bench.common import BenchServers, Figure, print_table, say, write_results
from shared.logging import configure_logging

BENCHMARKS = ("append", "command", "replay", "checkoff", "delivery", "printing", "http")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=BENCHMARKS, action="append",
                        help="run only this benchmark (may be repeated)")
    parser.add_argument("--events", type=int, default=1_000_000,
                        help="events in the log the replay benchmark rebuilds (default 1,000,000)")
    args = parser.parse_args(argv)
    if args.events < 1000:
        parser.error("--events must be at least 1000")
    return args


async def run_all(servers: BenchServers, args: argparse.Namespace) -> tuple[list[Figure], list[str]]:
    from bench import (bench_append, bench_checkoff, bench_command, bench_delivery, bench_http, bench_printing,
                       bench_replay)
    modules = {"append": bench_append, "command": bench_command, "replay": bench_replay, "checkoff": bench_checkoff,
               "delivery": bench_delivery, "printing": bench_printing, "http": bench_http}
    figures: list[Figure] = []
    failed: list[str] = []
    for name in args.only or BENCHMARKS:
        say(f"── {name}")
        started = time.perf_counter()
        try:
            figures.extend(await modules[name].run(servers, events=args.events))
        except Exception:  # noqa: BLE001 - reported loudly; the other benchmarks still run
            failed.append(name)
            say(f"!! {name} FAILED:\n{traceback.format_exc()}")
        say(f"   ({time.perf_counter() - started:.0f} s)")
    return figures, failed


def busy_elsewhere() -> str:
    """Other load on the machine skews every figure: say so beside them."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return ""
    return f"load average {load:.2f} at start"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging("warning")
    load = busy_elsewhere()
    started = time.perf_counter()
    say("starting servers…")
    servers = BenchServers().start()
    try:
        say(servers.describe())
        figures, failed = asyncio.run(run_all(servers, args))
    finally:
        servers.stop()
    path = write_results(figures, args.only or list(BENCHMARKS))
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print_table(figures, f"{when}, {platform.python_implementation()} {platform.python_version()}, "
                         f"{os.cpu_count()} CPU, {time.perf_counter() - started:.0f} s, {load}")
    say(f"wrote {path}")
    if failed:
        say(f"FAILED: {', '.join(failed)} (see above)")
    below = [f.name for f in figures if f.ok is False]
    if below:
        say(f"below target: {', '.join(below)} (see docs/benchmarks.md for where the time goes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
