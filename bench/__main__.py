"""`python -m bench [--only append|command|replay] [--events N]`: start servers, run the
benchmarks, print a table and write bench/results/latest.json."""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from datetime import datetime, timezone

from bench.common import BenchServers, Figure, print_table, say, write_results
from shared.logging import configure_logging

BENCHMARKS = ("append", "command", "replay")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=BENCHMARKS, action="append",
                        help="run only this benchmark (may be repeated)")
    parser.add_argument("--events", type=int, default=1_000_000,
                        help="events in the log the replay benchmark rebuilds from (default 1,000,000)")
    args = parser.parse_args(argv)
    if args.events < 1000:
        parser.error("--events must be at least 1000")
    return args


async def run_all(servers: BenchServers, args: argparse.Namespace) -> list[Figure]:
    from bench import bench_append, bench_command, bench_replay
    modules = {"append": bench_append, "command": bench_command, "replay": bench_replay}
    figures: list[Figure] = []
    for name in args.only or BENCHMARKS:
        say(f"── {name}")
        started = time.perf_counter()
        figures.extend(await modules[name].run(servers, events=args.events))
        say(f"   ({time.perf_counter() - started:.0f} s)")
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging("warning")
    started = time.perf_counter()
    say("starting servers…")
    servers = BenchServers().start()
    try:
        say(servers.describe())
        figures = asyncio.run(run_all(servers, args))
    finally:
        servers.stop()
    path = write_results(figures)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print_table(figures, f"{when}, {platform.python_implementation()} {platform.python_version()}, "
                         f"{os.cpu_count()} CPU, {time.perf_counter() - started:.0f} s")
    say(f"wrote {path}")
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
