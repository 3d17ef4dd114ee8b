"""The processes of the http.checkoff benchmark: the gateway served by uvicorn in a process of its
own, as `louzu up` runs it, and the clients in another, so that neither shares the other's event loop
(or the bench's, where the lockdown service runs); and py-spy on the gateway when asked."""
from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from array import array
from pathlib import Path

import orjson

from bench.common import BenchServers, connect, say


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
# The clients' process: HTTP clients, each with its own session and connection, or as many senders
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
        if self.writer is None or self.reader.at_eof():  # new, or closed by the server while idle (keep-alive 5 s)
            await self.close()
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
        self.nc, self.tenant = None, ""
        self.http: list[Connection] = []

    async def setup(self, nats_url: str, tenant: str, host: str, port: int, count: int, user: str,
                    password: str) -> str:
        """Connect to NATS and sign `count` HTTP clients in; answers a problem, or "" when all went well."""
        import httpx
        from services.gateway.entrypoints.sessions import COOKIE
        self.nc, self.tenant = await connect(nats_url, "bench-http-clients"), tenant
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=30) as signing:
            for _ in range(count):  # one after the other: parallel sign-ins of one user look like an attack
                signing.cookies.clear()
                answer = await signing.post("/api/v1/session", json={"user_id": user, "password": password})
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
                fresh = status == 200 and orjson.loads(answer)["event_ids"] and b'"duplicate":false' in answer
                return None if fresh else f"{status} {answer[:300]!r}"
            senders = [(lambda item, c=c: one(c, item)) for c in self.http]
        else:
            from shared.commanding import CommandClient
            command = CommandClient(self.nc, self.tenant, "lockdown", in_flight=len(self.http))

            async def send(item) -> str | None:
                answer = await command.send(item["name"], item)
                fresh = answer.get("ok") and answer.get("event_ids") and not answer.get("duplicate")
                return None if fresh else orjson.dumps(answer)[:300].decode()
            senders = [send] * len(self.http)  # as many senders as HTTP clients

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
# py-spy


def profiler(pid: int) -> subprocess.Popen | None:
    out = os.environ.get("LOUZU_BENCH_PYSPY")
    if not out:
        return None
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    say(f"  recording the gateway (pid {pid}) with py-spy into {out}")
    form = "flamegraph" if out.endswith(".svg") else "raw"  # raw: collapsed stacks, one per line
    return subprocess.Popen([binary, "record", "--pid", str(pid), "--rate", "250", "--format", form, "-o", out,
                             "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(proc: subprocess.Popen | None) -> None:
    if proc is not None:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
