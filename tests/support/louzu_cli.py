"""Driving the `louzu` command as a cadre would: separate processes, a data folder of the test's own."""
import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

LOUZU = [sys.executable, "-m", "services"]


def louzu(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    done = subprocess.run([*LOUZU, *args], env={**env, "LOUZU_HOME": str(home)}, capture_output=True, text=True,
                          timeout=180)
    if check and done.returncode != 0:
        raise AssertionError(f"louzu {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return done


def operator_nats_url(home: Path) -> str:
    """What a tool that reads every stream connects with: the operator credential named by
    `louzu status --json` as `nats_operator_file` (the embedded server requires users)."""
    from shared.infra.nats_auth import operator_url
    status = json.loads(louzu(home, "status", "--json").stdout)
    return (operator_url(Path(status["nats_operator_file"])) if status.get("nats_operator_file")
            else status["nats_url"])


def start_up(home: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    proc = subprocess.Popen([*LOUZU, "up"], env={**env, "LOUZU_HOME": str(home)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (home / "run.json").exists():
            status = louzu(home, "status", "--json", check=False)
            if status.returncode == 0 and all(json.loads(status.stdout)["services"].values()):
                return proc
        if proc.poll() is not None:
            raise AssertionError(f"louzu up exited: {proc.stdout.read()}")
        time.sleep(0.2)
    raise AssertionError("louzu up did not become ready")


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    return out


def louzu_bytes(home: Path, *args: str) -> bytes:
    """What `louzu …` writes to standard output when it is a pipe, as bytes."""
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    done = subprocess.run([*LOUZU, *args], env={**env, "LOUZU_HOME": str(home)}, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def louzu_on_a_terminal(home: Path, *args: str):
    """`louzu …` with standard output on a pseudo-terminal, as a cadre's shell has it."""
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    main, child = pty.openpty()
    done = subprocess.run([*LOUZU, *args], env={**env, "LOUZU_HOME": str(home)}, stdout=child,
                          stderr=subprocess.PIPE, timeout=180)
    os.close(child)
    written = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        written += chunk
    os.close(main)
    return SimpleNamespace(returncode=done.returncode, output=written.decode(errors="replace") + done.stderr.decode())
