"""http.checkoff: testing-round check-offs/s through the gateway over real HTTP (a signed-in client →
uvicorn → FastAPI: session cookie, principal, CSRF, reach, the `CheckOffSample` model → NATS request →
lockdown service → reply → JSON answer), beside the same check-offs sent straight on the NATS command
path (`CommandClient`, what the gateway itself sends) in the same run.

Each side runs where it runs in `louzu up`: the gateway in a process of its own (`Gateway.start()`,
`serve()`: one uvicorn process), the lockdown service in the bench process, and the 32 clients —
HTTP or NATS — in a third process, so that they do not share the gateway's event loop. Every
check-off is a new (round, resident): measured rounds alternate between the two paths so that a
moment of load elsewhere on the machine falls on both. Every answer must be ok.

`LOUZU_BENCH_PYSPY=/tmp/gateway.svg` records a py-spy flame graph of the gateway process over the
measured rounds (`/tmp/gateway.txt`: collapsed stacks); py-spy on PATH or beside the interpreter.
"""
from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from array import array
from pathlib import Path

import asyncpg
import orjson

from bench.common import NOW, BenchServers, Figure, connect, say
from shared.commands import lockdown as k
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject
from shared.events import registry as r

TENANT, COMPOUND, TOWN = "benchhttp", "yinghuayuan", "taopu"
BUILDINGS, HOUSEHOLDS, PEOPLE = 24, 36, 3      # 2,592 residents: one round of each path checks them all off
WARMUP = 1_000                                  # check-offs per path before measuring
ROUNDS = 3                                      # measured rounds per path, alternating
CLIENTS = 32
TARGET_RATIO = 0.4
USER, PASSWORD = "bench-cadre", "correct-horse-38"


# --------------------------------------------------------------------------------------------
# The gateway's process


def _gateway_main(nats_url: str, database_url: str, secrets_dir: str, port: int, ready, stop, log: str) -> None:
    from shared.logging import configure_logging
    configure_logging("warning")
    with open(log, "a", encoding="utf-8") as out, contextlib.redirect_stdout(out):
        asyncio.run(_serve_gateway(nats_url, database_url, Path(secrets_dir), port, ready, stop))


async def _serve_gateway(nats_url: str, database_url: str, secrets_dir: Path, port: int, ready, stop) -> None:
    from services.gateway.bootstrap import Gateway
    gateway = await Gateway(nats_url, database_url, secrets_dir).start()
    try:
        await gateway.serve("127.0.0.1", port)
        ready.set()
        await asyncio.to_thread(stop.wait)
    finally:
        await gateway.close()


class GatewayProcess:
    def __init__(self, servers: BenchServers) -> None:
        from shared.infra.embedded import free_port
        spawn = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.ready, self.stop = spawn.Event(), spawn.Event()
        self.proc = spawn.Process(target=_gateway_main, name="bench-gateway", daemon=True, args=(
            servers.nats_url, servers.database_url, str(servers.home / "gateway-secrets"), self.port,
            self.ready, self.stop, str(servers.home / "gateway.log")))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> "GatewayProcess":
        self.proc.start()
        deadline = time.monotonic() + 90
        while not await asyncio.to_thread(self.ready.wait, 0.2):
            if not self.proc.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not start (exit code {self.proc.exitcode}; see its log)")
        return self

    async def close(self) -> None:
        self.stop.set()
        await asyncio.to_thread(self.proc.join, 30)
        if self.proc.is_alive():
            self.proc.kill()


# --------------------------------------------------------------------------------------------
# The clients' process: 32 HTTP clients, each with its own session and connection, or 32 senders
# on one NATS connection. A job answers (seconds, CPU seconds of this process, latencies in seconds,
# failures, first failure).


class Connection:
    """One bare HTTP/1.1 keep-alive connection on asyncio streams, with a signed-in session's cookie and
    CSRF token. httpx spent 2.0 ms of CPU per request here — as much as the gateway serving it — and the
    clients share the machine's two cores with it; this spends about a tenth of that."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", **headers}.items()).encode()
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
                          % (path.encode(), self.head, len(body), body))
        head = await self.reader.readuntil(b"\r\n\r\n")
        fields = dict(line.split(b":", 1) for line in head[:-4].split(b"\r\n")[1:])
        fields = {name.strip().lower(): value.strip() for name, value in fields.items()}
        if b"content-length" not in fields:
            raise RuntimeError(f"an answer without Content-Length: {head[:300]!r}")
        answer = await self.reader.readexactly(int(fields[b"content-length"]))
        if fields.get(b"connection", b"").lower() == b"close":
            await self.close()
        return int(head[9:12]), answer

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


class Clients:
    """State kept across jobs in the clients' process: the NATS connection and the signed-in clients."""

    def __init__(self) -> None:
        self.nc = None
        self.http: list[Connection] = []

    async def setup(self, nats_url: str, host: str, port: int, count: int) -> str:
        import httpx
        from services.gateway.entrypoints.sessions import COOKIE
        self.nc = await connect(nats_url, "bench-http-clients")
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=30) as signing:
            for _ in range(count):  # one after the other: parallel sign-ins of one user look like an attack
                signing.cookies.clear()
                answer = await signing.post("/api/v1/session", json={"user_id": USER, "password": PASSWORD})
                if answer.status_code != 200:
                    return f"sign-in answered {answer.status_code}: {answer.text[:300]}"
                self.http.append(Connection(host, port, {
                    "Content-Type": "application/json", "Cookie": f"{COOKIE}={answer.cookies[COOKIE]}",
                    "X-CSRF-Token": answer.json()["csrf_token"]}))
        return ""

    async def run(self, kind: str, work: list) -> tuple[float, float, bytes, int, str]:
        feed, latencies, failures = iter(work), array("d"), []
        if kind == "http":
            async def one(client: Connection, item) -> str | None:
                status, answer = await client.post(*item)
                return None if status == 200 else f"{status} {answer[:300]!r}"
            senders = [(lambda item, c=c: one(c, item)) for c in self.http]
        else:
            from shared.commanding import CommandClient
            command = CommandClient(self.nc, TENANT, "lockdown", in_flight=CLIENTS)

            async def send(item) -> str | None:
                answer = await command.send(item["name"], item)
                return None if answer.get("ok") else orjson.dumps(answer)[:300].decode()
            senders = [send] * CLIENTS

        async def worker(sender) -> None:
            for item in feed:
                started = time.perf_counter()
                try:
                    problem = await sender(item)
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    problem = f"{type(exc).__name__}: {exc}"
                latencies.append(time.perf_counter() - started)
                if problem:
                    failures.append(problem)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(s) for s in senders))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        return elapsed, cpu, latencies.tobytes(), len(failures), failures[0] if failures else ""

    async def close(self) -> None:
        for client in self.http:
            await client.close()
        if self.nc is not None:
            await self.nc.close()


def _clients_main(conn) -> None:
    from shared.logging import configure_logging
    configure_logging("warning")
    loop, clients = asyncio.new_event_loop(), Clients()
    try:
        while (job := conn.recv()) is not None:
            method, args = job
            conn.send(loop.run_until_complete(getattr(clients, method)(*args)))
    finally:
        loop.run_until_complete(clients.close())
        loop.close()


class ClientProcess:
    def __init__(self) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.conn, theirs = spawn.Pipe()
        self.proc = spawn.Process(target=_clients_main, args=(theirs,), name="bench-clients", daemon=True)

    def start(self) -> "ClientProcess":
        self.proc.start()
        return self

    async def call(self, method: str, *args):
        self.conn.send((method, args))
        return await asyncio.to_thread(self.conn.recv)

    async def close(self) -> None:
        if self.proc.is_alive():
            self.conn.send(None)
        await asyncio.to_thread(self.proc.join, 30)
        if self.proc.is_alive():
            self.proc.kill()


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
    (which, unlike a rate, hardly moves when other work shares the machine)."""

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


def _profiler(pid: int) -> subprocess.Popen | None:
    out = os.environ.get("LOUZU_BENCH_PYSPY")
    if not out:
        return None
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    say(f"  recording the gateway (pid {pid}) with py-spy into {out}")
    form = "flamegraph" if out.endswith(".svg") else "raw"  # raw: collapsed stacks, one per line
    return subprocess.Popen([binary, "record", "--pid", str(pid), "--rate", "250", "--format", form, "-o", out,
                             "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop_profiler(proc: subprocess.Popen | None) -> None:
    if proc is not None:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


async def _measure(clients: ClientProcess, people: list[tuple[str, str]], gateway_pid: int) -> tuple[Side, Side]:
    warm = people[:WARMUP]
    await Side("NATS").measure(clients, gateway_pid, "nats", _nats_work("warmnats", warm))
    await Side("HTTP").measure(clients, gateway_pid, "http", _http_work("warmhttp", warm))
    http, nats_path = Side("HTTP"), Side("NATS")
    profiler = _profiler(gateway_pid)
    try:
        for n in range(ROUNDS):
            await nats_path.measure(clients, gateway_pid, "nats", _nats_work(f"nats{n}", people))
            await http.measure(clients, gateway_pid, "http", _http_work(f"http{n}", people))
            say(f"  http.checkoff round {n + 1}/{ROUNDS}: HTTP {http.rates[-1]:,.0f}/s, "
                f"NATS {nats_path.rates[-1]:,.0f}/s ({len(people):,} check-offs each, 0 failures)")
    finally:
        _stop_profiler(profiler)
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
    try:
        await gateway.start()
        people = await _roster(EventStore(nc))
        await _cadre(nc, servers.database_url)
        await _open_rounds(nc, ["warmnats", "warmhttp"] + [f"{side}{n}" for n in range(ROUNDS) for side in ("nats", "http")])
        problem = await clients.call("setup", servers.nats_url, "127.0.0.1", gateway.port, CLIENTS)
        if problem:
            raise RuntimeError(problem)
        say(f"  http.checkoff setup: {len(people):,} residents, {CLIENTS} clients signed in, gateway pid "
            f"{gateway.proc.pid} on {gateway.url}")
        http, nats_path = await _measure(clients, people, gateway.proc.pid)
    finally:
        await clients.close()
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
               note=f"{measured}; baseline: the same check-offs on the NATS command path (CommandClient)"),
        Figure("http.checkoff p50 latency", p50[0], "ms", p50[1], note="baseline: p50 on the NATS command path"),
        Figure("http.checkoff p99 latency", p99[0], "ms", p99[1], note="baseline: p99 on the NATS command path"),
    ]
