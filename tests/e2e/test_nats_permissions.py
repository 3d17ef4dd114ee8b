"""Isolation on the bus under `louzu up`: nobody connects without a user; each service's user may
publish only its own events and receive only its own commands; the operator credential named by
`louzu status --json` (nats_creds) reads every stream."""
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
        assert status["nats_creds"]
        assert "@" not in status["nats_url"]  # no password in what status prints
        users = json.loads((home / "secrets" / nats_auth.USERS_FILE).read_text())
        outcome = asyncio.run(_probe(status["nats_url"], users, operator_nats_url(home)))
    finally:
        stop(up)
    assert outcome["anonymous"] == "refused"
    assert outcome["own_event"] == "stored"
    assert outcome["other_event"] == "refused"
    assert outcome["other_commands"] == "refused"
    assert outcome["operator_reads"] > 0


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
