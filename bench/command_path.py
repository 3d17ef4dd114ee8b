"""What the check-off and delivery benchmarks share: driving commands with a fixed number in
flight, a bare echo responder as baseline, and the lag of a view behind the acknowledged commands."""
from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import orjson

from bench.common import Stopwatch

IN_FLIGHT = 256


async def drive(nc, requests: list[tuple[str, bytes]], acked: list[float] | None, what: str) -> float:
    """Send every request with IN_FLIGHT outstanding; returns replies/s. With `acked`, every reply
    must be ok and its arrival time is recorded."""
    feed = iter(requests)
    failures: list[bytes] = []

    async def client() -> None:
        for subject, payload in feed:
            reply = await nc.request(subject, payload, timeout=30)
            if acked is not None:
                if not orjson.loads(reply.data).get("ok"):
                    failures.append(reply.data[:300])
                acked.append(time.perf_counter())

    with Stopwatch() as sw:
        await asyncio.gather(*(client() for _ in range(IN_FLIGHT)))
    if failures:
        raise RuntimeError(f"{len(failures)} {what} refused, e.g. {failures[0]!r}")
    return len(requests) / sw.elapsed


async def echo_baseline(client, echo_nc, payloads: list[bytes]) -> float:
    canned = orjson.dumps({"ok": True, "event_ids": [str(uuid.uuid4())], "last_seq": 1, "duplicate": False})

    async def echo(msg) -> None:
        await msg.respond(canned)
    await echo_nc.subscribe("bench.echo.>", queue="echo", cb=echo)
    await echo_nc.flush()
    return await drive(client, [("bench.echo.x", p) for p in payloads], None, "echoes")


async def watch(pool: asyncpg.Pool, sql: str, tenant: str, stop: asyncio.Event, seen: list[tuple[float, int]]) -> None:
    """Poll a view's row count every 10 ms: (time, rows visible)."""
    while not stop.is_set():
        seen.append((time.perf_counter(), await pool.fetchval(sql, tenant)))
        await asyncio.sleep(0.01)


def lags(acked: list[float], seen: list[tuple[float, int]], before: int) -> list[float]:
    """For the i-th acknowledged command, the time until the view showed i more rows."""
    out, j = [], 0
    for i, t_ack in enumerate(sorted(acked), start=1):
        while j < len(seen) and seen[j][1] - before < i:
            j += 1
        if j == len(seen):
            break
        out.append(max(0.0, seen[j][0] - t_ack))
    return out


async def measure_with_lag(client, pool: asyncpg.Pool, count_sql: str, tenant: str,
                           measured: list[tuple[str, bytes]], what: str) -> tuple[float, float, float]:
    """Drive `measured` while watching the view; returns (rate, p50 lag, p99 lag)."""
    before = await pool.fetchval(count_sql, tenant)
    acked: list[float] = []
    seen: list[tuple[float, int]] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(pool, count_sql, tenant, stop, seen))
    rate = await drive(client, measured, acked, what)
    deadline = time.perf_counter() + 60
    while (not seen or seen[-1][1] - before < len(measured)) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await watcher
    found = sorted(lags(acked, seen, before))
    if not found:
        return rate, float("inf"), float("inf")
    return rate, found[len(found) // 2], found[max(int(len(found) * 0.99) - 1, 0)]
