"""command: registry commands/s end to end over NATS request–reply (the registry's command
subscriber, parse and validate, load the aggregates, decide, EventStore.append, reply), beside a
bare nats-py echo responder driven by the same client at the same concurrency.

The registry runs in this process (`Registry(...).start(projector=False)`), as `louzu up` runs
it in its own; the client is a separate NATS connection. Every reply must be `ok`: a single
failure fails the benchmark.
"""
from __future__ import annotations

import asyncio
import statistics
import uuid

import orjson

from bench.common import BenchServers, Faker, Figure, Stopwatch, connect, resident_id, say
from services.registry.bootstrap import Registry
from shared.eventlog.subjects import command_subject

IN_FLIGHT = 256
PER_ROUND = 10_000
ROUNDS = 3
WARMUP = 1_000
BUILDINGS = 6
TARGET = 3_000
TENANT = "benchcmd"
COMPOUND = "yinghuayuan"


class CommandFailed(RuntimeError):
    pass


def _base(actor: str = "cadre-7") -> dict:
    return {"command_id": uuid.uuid4().hex, "tenant": TENANT, "compound": COMPOUND, "actor": actor}


async def _send(nc, name: str, body: dict) -> dict:
    reply = await nc.request(command_subject(TENANT, "registry", name), orjson.dumps(body), timeout=30)
    answer = orjson.loads(reply.data)
    if not answer.get("ok"):
        raise CommandFailed(f"{name} refused: {answer}")
    return answer


async def _drive(nc, requests: list[tuple[str, bytes]], check) -> tuple[float, int, list[str]]:
    """Send every request with IN_FLIGHT outstanding; returns (replies/s, failures, first failures)."""
    feed = iter(requests)
    failures: list[str] = []

    async def client() -> None:
        for subject, payload in feed:
            try:
                reply = await nc.request(subject, payload, timeout=30)
                problem = check(reply.data)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                problem = f"{type(exc).__name__}: {exc}"
            if problem:
                failures.append(problem)

    with Stopwatch() as sw:
        await asyncio.gather(*(client() for _ in range(IN_FLIGHT)))
    return len(requests) / sw.elapsed, len(failures), failures[:3]


def _check_command(data: bytes) -> str | None:
    answer = orjson.loads(data)
    if answer.get("ok") and answer.get("event_ids") and not answer.get("duplicate"):
        return None
    return f"reply not ok: {data[:300]!r}"


async def _setup(nc) -> list[str]:
    await _send(nc, "register_compound", {**_base(), "display_name": "樱花苑", "town": "taopu"})
    households = []
    for b in range(1, BUILDINGS + 1):
        await _send(nc, "register_building", {**_base(), "building": str(b), "entrances": 4, "floors": 18})
    calls = []
    for b in range(1, BUILDINGS + 1):
        for entrance in range(1, 5):
            for floor in range(1, 19):
                room = f"{floor}0{entrance}"
                calls.append(_send(nc, "register_household", {**_base(), "building": str(b),
                                                              "entrance": str(entrance), "room": room}))
                households.append(f"{b}-{entrance}-{room}")
    await asyncio.gather(*calls)
    return households


def _resident_requests(faker: Faker, households: list[str], start: int, count: int) -> list[tuple[str, bytes]]:
    subject = command_subject(TENANT, "registry", "register_resident")
    out = []
    for n in range(start, start + count):
        rid = resident_id(n, "cmd")
        body = {**_base(f"cadre-{n % 40}"), **faker.resident_command_fields(rid, households[n % len(households)])}
        out.append((subject, orjson.dumps(body)))
    return out


async def run(servers: BenchServers, **_options) -> list[Figure]:
    await servers.fresh_log()
    registry = await Registry(servers.nats_url, servers.database_url).start(projector=False)
    client = await connect(servers.nats_url, "bench-command-client")
    echo_nc = await connect(servers.nats_url, "bench-echo-responder")
    faker = Faker(23)
    try:
        households = await _setup(client)
        say(f"  command setup: 1 compound, {BUILDINGS} buildings, {len(households)} households")
        canned = orjson.dumps({"ok": True, "event_ids": [str(uuid.uuid4())], "last_seq": 123456, "duplicate": False})

        async def echo(msg) -> None:
            await msg.respond(canned)

        await echo_nc.subscribe("bench.echo.>", queue="echo", cb=echo)
        await echo_nc.flush()

        n = 0
        rate, failed, first = await _drive(client, _resident_requests(faker, households, n, WARMUP), _check_command)
        n += WARMUP
        if failed:
            raise CommandFailed(f"{failed} of {WARMUP} warm-up commands failed, e.g. {first}")
        command_rates, echo_rates = [], []
        for round_no in range(ROUNDS):
            requests = _resident_requests(faker, households, n, PER_ROUND)
            n += PER_ROUND
            echo_requests = [(f"bench.echo.{TENANT}.register_resident", payload) for _, payload in requests]
            rate, failed, first = await _drive(client, echo_requests, lambda data: None if data == canned else "bad echo")
            if failed:
                raise CommandFailed(f"{failed} echo requests failed, e.g. {first}")
            echo_rates.append(rate)
            rate, failed, first = await _drive(client, requests, _check_command)
            if failed:
                raise CommandFailed(f"{failed} of {PER_ROUND} register_resident commands failed, e.g. {first}")
            command_rates.append(rate)
            say(f"  command round {round_no + 1}/{ROUNDS}: register_resident {command_rates[-1]:,.0f}/s "
                f"(0 failures), echo {echo_rates[-1]:,.0f}/s")
        size = statistics.mean(len(p) for _, p in requests)
    finally:
        await client.close()
        await echo_nc.close()
        await registry.close()
    value, baseline = statistics.median(command_rates), statistics.median(echo_rates)
    return [Figure("command.register_resident", value, "commands/s", baseline, target=f"≥ {TARGET:,}",
                   ok=value >= TARGET,
                   note=f"{ROUNDS}×{PER_ROUND:,} register_resident ({size:.0f} B requests) with {IN_FLIGHT} in flight, "
                        f"every reply ok (after {WARMUP:,} warm-up); baseline: nats-py echo responder, same client, "
                        f"same payloads, same concurrency (median of {ROUNDS})")]
