"""http.checkoff: testing-round check-offs/s through the gateway over real HTTP (a signed-in client →
uvicorn → FastAPI: session cookie, principal, CSRF, reach, the `CheckOffSample` model → NATS request →
lockdown service → reply → JSON answer), beside the same check-offs sent straight on the NATS command
path (`CommandClient`, what the gateway itself sends) in the same run.

Each side runs where it runs in `louzu up`: the gateway in a process of its own (`Gateway.start()`,
`serve()`: one uvicorn process, its projections running), the lockdown and roster services in the
bench process, and the 32 clients — HTTP or NATS — in a third process, so that they do not share the
gateway's event loop (bench/http_processes.py). Every
check-off is a new (round, resident): measured rounds alternate between the two paths so that a
moment of load elsewhere on the machine falls on both. Every answer must be ok.

`LOUZU_BENCH_PYSPY=/tmp/gateway.svg` records a py-spy flame graph of the gateway process over the
measured rounds (`/tmp/gateway.txt`: collapsed stacks), with py-spy on PATH or beside the interpreter
(`pip install py-spy`; docs/benchmarks.md says where the gateway's time went).
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from array import array

import asyncpg
import orjson

from bench.common import NOW, BenchServers, Figure, connect, say
from bench.http_processes import ClientProcess, GatewayProcess, profiler, stop_profiler
from shared.commands import lockdown as k
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject
from shared.events import registry as r

TENANT, COMPOUND, TOWN = "benchhttp", "yinghuayuan", "taopu"
BUILDINGS, HOUSEHOLDS, PEOPLE = 16, 36, 3      # 1,728 residents: one round of each path checks them all off
WARMUP = 1_000                                  # check-offs per path before measuring
ROUNDS = 5                                      # measured rounds per path, alternating
CLIENTS = 32
TARGET_RATIO = 0.4
USER, PASSWORD = "bench-cadre", "correct-horse-38"


# --------------------------------------------------------------------------------------------
# Set-up: a compound with its residents, a cadre who may check them off, open rounds


async def _roster(store: EventStore) -> list[tuple[str, str]]:
    people, appends = [], [store.append(
        AggregateSubject.make(TENANT, COMPOUND, "registry", "compound", COMPOUND),
        [r.CompoundRegistered(compound=COMPOUND, name="樱花苑", town=TOWN, registered_by="bench", registered_at=NOW)],
        expected=0, meta=Metadata(uuid.uuid4().hex))]
    for b in range(1, BUILDINGS + 1):
        for h in range(HOUSEHOLDS):
            room = f"{h // 2 + 1}0{h % 2 + 1}"
            hh = f"{b}-1-{room}"
            appends.append(store.append(AggregateSubject.make(TENANT, COMPOUND, "registry", "household", hh), [
                r.HouseholdRegistered(household_id=hh, building=str(b), entrance="1", room=room, floor=h // 2 + 1,
                                      registered_by="bench", registered_at=NOW)],
                expected=0, meta=Metadata(uuid.uuid4().hex)))
            for p in range(PEOPLE):
                rid = f"r{b:03d}{h:03d}{p}"
                people.append((rid, hh))
                appends.append(store.append(AggregateSubject.make(TENANT, COMPOUND, "registry", "resident", rid), [
                    r.ResidentRegistered(resident_id=rid, household_id=hh, name="居民", sex="F", birth_year=1960,
                                         id_hash=rid, id_number_sealed="v1:" + "x" * 60, id_mask="310107********0012",
                                         registered_by="bench", registered_at=NOW)],
                    expected=0, meta=Metadata(uuid.uuid4().hex)))
    await asyncio.gather(*appends)
    return people


async def _cadre(nc, database_url: str) -> None:
    """A committee cadre of the bench's committee, seen by the gateway's read model."""
    from shared.commanding import CommandClient
    from shared.events.gateway import USERS_TENANT
    from services.gateway.application.access import hash_password
    users = CommandClient(nc, USERS_TENANT, "gateway")
    base = {"tenant": USERS_TENANT, "compound": "all", "actor": "bench"}
    for name, fields in (("register_user", {"display_name": "测试干部", "town": TOWN,
                                            "password_hash": hash_password(PASSWORD)}),
                         ("grant_role", {"role": "committee_cadre", "grant_tenant": TENANT})):
        answer = await users.send(name, {**base, "command_id": uuid.uuid4().hex, "user_id": USER, **fields})
        if not answer.get("ok"):
            raise RuntimeError(f"{name} refused: {answer}")
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + 30
        while not await conn.fetchval("SELECT count(*) FROM proj_gateway.grants WHERE user_id = $1", USER):
            if time.monotonic() > deadline:
                raise RuntimeError("the gateway's read model never showed the bench's cadre")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def _open_rounds(nc, names: list[str]) -> None:
    from shared.commanding import CommandClient
    lockdown = CommandClient(nc, TENANT, "lockdown")
    for name in names:
        answer = await lockdown.send("schedule_testing_round", k.ScheduleTestingRound(
            command_id=uuid.uuid4().hex, tenant=TENANT, compound=COMPOUND, actor=USER, round_id=name,
            buildings=tuple(str(b) for b in range(1, BUILDINGS + 1)), site="小区广场",
            starts_at=NOW).model_dump(mode="json", exclude_none=True))
        if not answer.get("ok"):
            raise RuntimeError(f"schedule_testing_round refused: {answer}")


def _http_work(round_id: str, people: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    path = f"/api/v1/committees/{TENANT}/compounds/{COMPOUND}/rounds/{round_id}/samples"
    return [(path, orjson.dumps({"resident_id": rid, "household_id": hh, "tube_id": f"T{i // 10}",
                                 "method": "roster"})) for i, (rid, hh) in enumerate(people)]


def _nats_work(round_id: str, people: list[tuple[str, str]]) -> list[dict]:
    """The very command the gateway would send for each of those check-offs."""
    return [k.CheckOffSample(command_id=uuid.uuid4().hex, tenant=TENANT, compound=COMPOUND, actor=USER,
                             round_id=round_id, resident_id=rid, household_id=hh, tube_id=f"T{i // 10}",
                             method="roster").model_dump(mode="json", exclude_none=True)
            for i, (rid, hh) in enumerate(people)]


# --------------------------------------------------------------------------------------------
# Measuring


class Side:
    """One path's figures: rates per round, every latency, and the CPU each process spent per check-off
    (which moves less than a rate when other work shares the machine)."""

    def __init__(self, name: str) -> None:
        self.name, self.rates, self.latencies, self.count = name, [], array("d"), 0
        self.cpu = {"clients": 0.0, "gateway": 0.0, "services": 0.0}

    async def measure(self, clients: "ClientProcess", gateway_pid: int, kind: str, work: list) -> None:
        import psutil
        gateway, here = psutil.Process(gateway_pid), psutil.Process()
        before = (sum(gateway.cpu_times()[:2]), sum(here.cpu_times()[:2]))
        elapsed, client_cpu, latencies, failed, first = await clients.call("run", kind, work)
        if failed:
            raise RuntimeError(f"{failed} of {len(work)} check-offs over {self.name} failed, e.g. {first}")
        self.cpu["clients"] += client_cpu
        self.cpu["gateway"] += sum(gateway.cpu_times()[:2]) - before[0]
        self.cpu["services"] += sum(here.cpu_times()[:2]) - before[1]
        self.count += len(work)
        self.rates.append(len(work) / elapsed)
        self.latencies.frombytes(latencies)

    def cpu_ms(self) -> str:
        """CPU per check-off in each process: the clients, the gateway, lockdown + roster (this process)."""
        return ", ".join(f"{name} {seconds / self.count * 1000:.2f}" for name, seconds in self.cpu.items())

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * q), len(ordered) - 1)] * 1000


async def _measure(clients: ClientProcess, people: list[tuple[str, str]], gateway_pid: int) -> tuple[Side, Side]:
    warm = people[:WARMUP]
    await Side("NATS").measure(clients, gateway_pid, "nats", _nats_work("warmnats", warm))
    await Side("HTTP").measure(clients, gateway_pid, "http", _http_work("warmhttp", warm))
    http, nats_path = Side("HTTP"), Side("NATS")
    recording = profiler(gateway_pid)
    try:
        for n in range(ROUNDS):
            await nats_path.measure(clients, gateway_pid, "nats", _nats_work(f"nats{n}", people))
            await http.measure(clients, gateway_pid, "http", _http_work(f"http{n}", people))
            say(f"  http.checkoff round {n + 1}/{ROUNDS}: HTTP {http.rates[-1]:,.0f}/s, NATS {nats_path.rates[-1]:,.0f}/s "
                f"({len(people):,} check-offs each, 0 failures; load average {os.getloadavg()[0]:.1f})")
    finally:
        stop_profiler(recording)
    return http, nats_path


async def run(servers: BenchServers, **_options) -> list[Figure]:
    from services.lockdown.bootstrap import Lockdown
    from services.roster.bootstrap import Roster
    await servers.fresh_log()
    with contextlib.redirect_stdout(open(servers.home / "faststream-access.log", "a", encoding="utf-8")):
        lockdown = await Lockdown(servers.nats_url, servers.database_url).start(scheduler=False)
        roster = await Roster(servers.nats_url, servers.database_url).start(commands=False)  # the town's compounds
    gateway = GatewayProcess(servers)
    clients = ClientProcess().start()
    nc = await connect(servers.nats_url, "bench-http-setup")
    store = EventStore(nc)
    try:
        await gateway.start()
        people = await _roster(store)
        await _cadre(nc, servers.database_url)
        await _open_rounds(nc, ["warmnats", "warmhttp"] + [f"{side}{n}" for n in range(ROUNDS) for side in ("nats", "http")])
        problem = await clients.call("setup", servers.nats_url, TENANT, "127.0.0.1", gateway.port, CLIENTS, USER,
                                     PASSWORD)
        if problem:
            raise RuntimeError(problem)
        say(f"  http.checkoff setup: {len(people):,} residents, {CLIENTS} clients signed in, gateway pid "
            f"{gateway.proc.pid} on {gateway.url}")
        http, nats_path = await _measure(clients, people, gateway.proc.pid)
    finally:
        await clients.close()
        await store.close()
        await nc.close()
        await gateway.close()
        await roster.close()
        await lockdown.close()
    p50, p99 = (http.quantile(0.5), nats_path.quantile(0.5)), (http.quantile(0.99), nats_path.quantile(0.99))
    say(f"  http.checkoff: HTTP {http.rate:,.0f}/s (p50 {p50[0]:.1f} ms, p99 {p99[0]:.1f} ms), NATS path "
        f"{nats_path.rate:,.0f}/s (p50 {p50[1]:.1f} ms, p99 {p99[1]:.1f} ms), ratio {http.rate / nats_path.rate:.2f}")
    say(f"  CPU ms per check-off — HTTP: {http.cpu_ms()}; NATS path: {nats_path.cpu_ms()}")
    measured = f"{ROUNDS}×{len(people):,} check-offs per path, alternating, {CLIENTS} clients, median of {ROUNDS}"
    return [
        Figure("http.checkoff", http.rate, "check-offs/s", nats_path.rate, target=f"≥ {TARGET_RATIO}× NATS path",
               ok=http.rate >= TARGET_RATIO * nats_path.rate,
               note=f"{measured}; baseline: the same check-offs on the NATS command path (CommandClient); CPU ms "
                    f"per check-off, HTTP: {http.cpu_ms()}; NATS path: {nats_path.cpu_ms()}"),
        Figure("http.checkoff p50 latency", p50[0], "ms", p50[1], note="baseline: p50 on the NATS command path"),
        Figure("http.checkoff p99 latency", p99[0], "ms", p99[1], note="baseline: p99 on the NATS command path"),
    ]
