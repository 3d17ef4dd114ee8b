"""`louzu up`: the servers (embedded or given), migrations, streams and every service process,
supervised in the foreground; `run.json` in the data folder tells other commands where they are."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import asyncpg
import nats
import psutil
from nats.js.api import DeliverPolicy

from shared.crypto import load_or_create_secret
from shared.eventlog.streams import ensure_streams
from shared.eventlog.subjects import EVENTS_STREAM, AggregateSubject
from shared.infra import nats_auth
from shared.infra.embedded import MIN_NATS, EmbeddedNats, EmbeddedPostgres, free_port
from shared.logging import get_logger
from shared.projections.base import Projection, ensure_schema, migrate_platform
from shared.settings import PlatformSettings

log = get_logger("louzu.up")

# The registry's compound events of every committee: the log says which committees exist.
COMPOUND_EVENTS = str(AggregateSubject("*", "*", "registry", "compound", "*"))
NATS_CONTEXT = Path("nats-context") / "louzu.json"  # under LOUZU_HOME: `nats --context <it>` reaches the bus

# Every service that exists, and the module that runs it.
SERVICES: dict[str, list[str]] = {
    "registry": [sys.executable, "-m", "services.registry", "all"],
    "lockdown": [sys.executable, "-m", "services.lockdown", "all"],
    "delivery": [sys.executable, "-m", "services.delivery", "all"],
    "roster": [sys.executable, "-m", "services.roster", "all"],
    "gateway": [sys.executable, "-m", "services.gateway", "all"],
}


DEMO_SIGN_INS = ("taopu-dispatch / taopu-2022 (town dispatcher), yhy-cadre / yinghuayuan-2022 (committee cadre), "
                 "dz-zhou / volunteer-2022 (gate-post volunteer)")


class AlreadyRunning(RuntimeError):
    pass


def read_state(settings: PlatformSettings) -> dict:
    try:
        return json.loads(settings.state_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def urls(settings: PlatformSettings) -> tuple[str, str]:
    """Where the servers are: the environment first, then the running `louzu up`."""
    state = read_state(settings)
    nats_url = settings.nats_url or state.get("nats_url")
    operator_file = state.get("nats_operator_file")
    if not settings.nats_url and operator_file and Path(operator_file).exists():
        nats_url = nats_auth.operator_url(Path(operator_file))  # the embedded server requires users
    database_url = settings.database_url or state.get("database_url")
    if not nats_url or not database_url:
        raise SystemExit("Louzu is not running: start it with `make run` (or set NATS_URL and DATABASE_URL).\n"
                         "樓組系统未运行：请先执行 `make run`。")
    return nats_url, database_url


async def prepare(nats_url: str, database_url: str, secrets_dir: Path, projections: Sequence[Projection] = ()) -> None:
    """Migrations, streams and secrets: idempotent, run on every start."""
    conn = await asyncpg.connect(database_url)
    try:
        await migrate_platform(conn)
        for projection in projections:
            await ensure_schema(conn, projection, projection.schema)
    finally:
        await conn.close()
    nc = await nats.connect(nats_url)
    try:
        version = nc.connected_server_version
        if (version.major, version.minor) < MIN_NATS[:2]:
            raise SystemExit(f"nats-server {version} at {nats_url} is too old: Louzu needs ≥ 2.12 (atomic batches, "
                             "and fixes for lost writes in 2.9/2.10). / NATS 服务器版本过旧。")
        await ensure_streams(nc)
    finally:
        await nc.close()
    load_or_create_secret(secrets_dir / "blind-index.key")


@dataclass
class System:
    settings: PlatformSettings
    nats: EmbeddedNats | None = None
    postgres: EmbeddedPostgres | None = None
    children: dict[str, subprocess.Popen] = field(default_factory=dict)
    http_port: int = 0
    nats_users: dict[str, str] = field(default_factory=dict)  # the embedded server's users (empty: NATS_URL given)

    def start_servers(self) -> tuple[str, str]:
        home = self.settings.home
        home.mkdir(parents=True, exist_ok=True)
        state = read_state(self.settings)
        if alive(state.get("pid")):
            raise AlreadyRunning(f"Louzu is already running from {home} (pid {state['pid']})")
        nats_url, database_url = self.settings.nats_url, self.settings.database_url
        if not nats_url:
            self.nats_users = nats_auth.load_or_create(self.settings.secrets_dir, SERVICES)
            self.nats = EmbeddedNats(home, authorization=nats_auth.authorization_block(self.nats_users)).start()
            nats_url = self.nats.url
        if not database_url:
            self.postgres = EmbeddedPostgres(home).start()
            database_url = self.postgres.url
        return nats_url, database_url

    def as_user(self, nats_url: str, user: str) -> str:
        """The NATS URL with `user`'s credentials when the embedded server requires them."""
        if user not in self.nats_users:
            return nats_url
        return nats_auth.with_user(nats_url, user, self.nats_users[user])

    def _env(self, nats_url: str, database_url: str, service: str) -> dict:
        return {**os.environ, "NATS_URL": self.as_user(nats_url, service), "DATABASE_URL": database_url,
                "LOUZU_HOME": str(self.settings.home), "LOUZU_HTTP_PORT": str(self.http_port),
                "LOUZU_PUBLIC_URL": self.public_url}

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def public_url(self) -> str:
        return os.environ.get("LOUZU_PUBLIC_URL") or self.http_url

    def start_services(self, nats_url: str, database_url: str) -> None:
        self.http_port = self.settings.http_port or free_port()
        logs = self.settings.home / "logs"
        logs.mkdir(exist_ok=True)
        for name, argv in SERVICES.items():
            out = open(logs / f"{name}.log", "ab")
            self.children[name] = subprocess.Popen(argv, env=self._env(nats_url, database_url, name), stdout=out,
                                                   stderr=out, start_new_session=True)

    def write_state(self, nats_url: str, database_url: str) -> None:
        operator_file = (str(nats_auth.write_operator_creds(self.settings.secrets_dir, nats_url, self.nats_users))
                         if self.nats_users else None)
        operator = nats_auth.OPERATOR if self.nats_users else None
        context = write_nats_context(self.settings.home / NATS_CONTEXT, nats_url, operator,
                                     self.nats_users.get(nats_auth.OPERATOR))
        state = {"pid": os.getpid(), "nats_url": nats_url, "nats_operator_file": operator_file,
                 "nats_context": str(context), "database_url": database_url, "http_url": self.http_url,
                 "services": {name: proc.pid for name, proc in self.children.items()}, "started_at": time.time()}
        self.settings.state_file.write_text(json.dumps(state, indent=2))

    def add_tenant_users(self, nats_url: str) -> None:
        """Give every committee with a compound its own NATS user (reloading nats-server when one is new)."""
        if self.nats is None or not self.nats_users:
            return
        tenants = asyncio.run(committees(self.as_user(nats_url, nats_auth.OPERATOR)))
        if all(nats_auth.tenant_user(t) in self.nats_users for t in tenants):
            return
        self.nats_users = nats_auth.load_or_create(self.settings.secrets_dir, SERVICES, tenants)
        self.nats.reload(nats_auth.authorization_block(self.nats_users))
        log.info("nats.tenant_users", tenants=len(tenants))

    def supervise_once(self, nats_url: str, database_url: str) -> None:
        """Restart a service that died; the log and projections make restarts safe."""
        for name, proc in list(self.children.items()):
            if proc.poll() is not None:
                log.warning("service.restarted", service=name, exit_code=proc.returncode)
                env = self._env(nats_url, database_url, name)
                out = open(self.settings.home / "logs" / f"{name}.log", "ab")
                self.children[name] = subprocess.Popen(SERVICES[name], env=env, stdout=out, stderr=out,
                                                       start_new_session=True)
                self.write_state(nats_url, database_url)

    def stop(self) -> None:
        for proc in self.children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.children.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.nats:
            self.nats.stop()
        if self.postgres:
            self.postgres.stop()
        self.settings.state_file.unlink(missing_ok=True)


def write_nats_context(path: Path, url: str, user: str | None, password: str | None) -> Path:
    """A NATS CLI context (url, user, password; owner-only), so that `nats --context <path> …` reaches
    the bus as the operator: `nats stream info LOUZU_EVENTS`, `nats sub 'louzu.evt.>'`."""
    context = {"description": "Louzu (written by louzu up)", "url": url, "user": user or "", "password": password or ""}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(context, indent=2))
    tmp.replace(path)
    return path


async def committees(nats_url: str, timeout: float = 5) -> list[str]:
    """Every committee (tenant) that has registered a compound, read from the registry's compound
    events in the log (the last one of each compound, headers only) rather than from its tables."""
    nc = await nats.connect(nats_url, connect_timeout=timeout, allow_reconnect=False)
    try:
        sub = await nc.jetstream().subscribe(COMPOUND_EVENTS, stream=EVENTS_STREAM, ordered_consumer=True,
                                             deliver_policy=DeliverPolicy.LAST_PER_SUBJECT, headers_only=True)
        try:
            info = await sub.consumer_info()
            tenants, more = set(), info.num_pending + info.delivered.consumer_seq > 0
            while more:
                msg = await sub.next_msg(timeout=timeout)
                tenants.add(AggregateSubject.parse(msg.subject).tenant)
                more = msg.metadata.num_pending > 0
        finally:
            await sub.unsubscribe()
    finally:
        await nc.close()
    return sorted(tenants)


def up(settings: PlatformSettings, projections: Sequence[Projection] = (), ready: callable = print) -> int:
    system = System(settings)
    stopping = {"flag": False}

    def request_stop(*_args) -> None:
        stopping["flag"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        nats_url, database_url = system.start_servers()
        asyncio.run(prepare(system.as_user(nats_url, nats_auth.OPERATOR), database_url, settings.secrets_dir,
                            projections))
        system.start_services(nats_url, database_url)
        system.write_state(nats_url, database_url)
        ready(f"Louzu is up — NATS {nats_url}  PostgreSQL {database_url}  data {settings.home}\n"
              f"Services: {', '.join(system.children)}.  Ctrl-C stops everything.\n"
              f"Consoles: {system.http_url}/  (API docs {system.http_url}/docs)\n"
              f"Demo sign-ins after `louzu demo`: {DEMO_SIGN_INS}")
        ticks = 0
        while not stopping["flag"]:
            if ticks % 6 == 0:
                try:
                    system.add_tenant_users(nats_url)
                except Exception as exc:  # noqa: BLE001 - retried on the next tick; services keep running
                    log.warning("nats.tenant_users_failed", error=type(exc).__name__)
            ticks += 1
            time.sleep(0.5)
            system.supervise_once(nats_url, database_url)
        return 0
    finally:
        system.stop()
