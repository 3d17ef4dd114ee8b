"""Isolation on the bus under `louzu up`: nobody connects without a user; each service's user may
publish only its own events and receive only its own commands; each committee's user may send
commands only for that committee (and the gateway none of its own); the operator credential named
by `louzu status --json` (nats_operator_file, and the NATS CLI context nats_context) reads every stream."""
import asyncio
import json
import uuid

import nats
import pytest

from shared.infra import nats_auth
from tests.support.louzu_cli import louzu, operator_nats_url, start_up, stop

pytestmark = pytest.mark.e2e


def test_each_service_s_user_reaches_only_its_own_subjects(tmp_path):
    home = tmp_path / "var"
    up = start_up(home)
    try:
        status = json.loads(louzu(home, "status", "--json").stdout)
        assert status["nats_operator_file"] and status["nats_context"]
        assert "@" not in status["nats_url"]  # no password in what status prints
        louzu(home, "compound", "perm-a", "--name", "甲小区", "--town", "taopu")
        louzu(home, "compound", "perm-b", "--name", "乙小区", "--town", "taopu")
        users = _users_when(home, ["tenant-perm-a", "tenant-perm-b"])
        outcome = asyncio.run(_probe(status["nats_url"], users, operator_nats_url(home)))
        outcome.update(asyncio.run(_tenant_probe(status["nats_url"], users)))
    finally:
        stop(up)
    assert outcome["anonymous"] == "refused"
    assert outcome["own_event"] == "stored"
    assert outcome["other_event"] == "refused"
    assert outcome["other_commands"] == "refused"
    assert outcome["operator_reads"] > 0
    assert outcome["own_committee"] == "answered"
    assert outcome["other_committee"] == "refused"
    assert outcome["gateway_itself"] == "refused"


def _users_when(home, wanted, timeout=30.0) -> dict:
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        users = json.loads((home / "secrets" / nats_auth.USERS_FILE).read_text())
        if all(name in users for name in wanted):
            return users
        time.sleep(0.2)
    raise AssertionError(f"louzu up did not add the users {wanted}")


async def _tenant_probe(url: str, users: dict) -> dict:
    async def ask(user: str, tenant: str, service: str = "registry") -> str:
        try:
            nc = await nats.connect(nats_auth.with_user(url, user, users[user]), allow_reconnect=False,
                                    max_reconnect_attempts=0, connect_timeout=3)
        except Exception:  # noqa: BLE001 - a user the server does not know yet
            return "refused"
        try:
            await nc.request(f"louzu.cmd.{tenant}.{service}.probe", b"{}", timeout=3)
            return "answered"
        except Exception:  # noqa: BLE001 - a forbidden publish never reaches a responder
            return "refused"
        finally:
            await nc.close()
    own = "refused"
    for _ in range(20):  # the server reloads its users shortly after louzu up adds them
        own = await ask("tenant-perm-a", "perm-a")
        if own == "answered":
            break
    services = ("registry", "lockdown", "delivery", "roster")
    own_everywhere = {await ask("tenant-perm-a", "perm-a", s) for s in services}
    other_anywhere = {await ask("tenant-perm-a", "perm-b", s) for s in services}
    return {"own_committee": own if own_everywhere == {"answered"} else "partly",
            "other_committee": "refused" if other_anywhere == {"refused"} else "leaked",
            "gateway_itself": await ask("gateway", "perm-a")}


async def _probe(url: str, users: dict, operator: str) -> dict:
    outcome: dict = {}
    try:
        anonymous = await nats.connect(url, allow_reconnect=False, connect_timeout=2, max_reconnect_attempts=0)
        await anonymous.close()
        outcome["anonymous"] = "connected"
    except Exception:  # noqa: BLE001 - any refusal will do
        outcome["anonymous"] = "refused"
    violations: list[str] = []

    async def on_error(exc):
        violations.append(str(exc))

    registry = await nats.connect(nats_auth.with_user(url, "registry", users["registry"]), error_cb=on_error)
    js = registry.jetstream()
    tenant = "perm" + uuid.uuid4().hex[:6]
    ack = await js.publish(f"louzu.evt.{tenant}.c1.registry.probe.p1", b"{}", timeout=5)
    outcome["own_event"] = "stored" if ack.seq else "lost"
    try:
        await js.publish(f"louzu.evt.{tenant}.c1.lockdown.building.b1", b"{}", timeout=2)
        outcome["other_event"] = "stored"
    except Exception:  # noqa: BLE001 - a permissions violation shows as no ack
        outcome["other_event"] = "refused"
    await registry.subscribe(f"louzu.cmd.{tenant}.lockdown.seal_building")
    await registry.flush()
    await asyncio.sleep(0.5)  # the server answers a forbidden subscription asynchronously
    outcome["other_commands"] = "refused" if any("ermission" in v for v in violations) else "allowed"
    await registry.close()
    tool = await nats.connect(operator)
    outcome["operator_reads"] = (await tool.jetstream().stream_info("LOUZU_EVENTS")).state.messages
    await tool.close()
    return outcome
