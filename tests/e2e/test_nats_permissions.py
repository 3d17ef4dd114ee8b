"""Isolation on the bus under `louzu up`: nobody connects without a user; each service's user may
publish only its own events and receive only its own commands; each committee's user may send
commands and queries only for that committee (and the gateway none of its own) and cannot reach
the files bucket, while the gateway, registry and roster pass files through it (an import and a
print, end to end); the operator credential named by `louzu status --json` (nats_operator_file, and the NATS CLI context nats_context) reads every stream."""
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
        outcome.update(asyncio.run(_query_probe(status["nats_url"], users)))
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
    assert outcome["own_queries"] == "answered"
    assert outcome["other_committee_roster"] == "refused"  # a committee cannot ask for another's roster
    assert outcome["committee_files"] == "refused"
    assert outcome["imported"] == 3 and outcome["printed"].startswith(b"%PDF")


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


async def _query_probe(url: str, users: dict) -> dict:
    """Queries through the committee's user, files through the gateway's: an import, then a print."""
    from shared.commanding import ServiceUnavailable
    from shared.eventlog.subjects import FILES_BUCKET
    from shared.queries import files
    from shared.queries.registry import ImportResidents
    from shared.queries.roster import PrintRoster, RosterPrinted
    from shared.queries.serving import QueryClient
    from tests.support.people import HEADER, sheet_rows

    def connect(user: str):
        return nats.connect(nats_auth.with_user(url, user, users[user]), allow_reconnect=False,
                            max_reconnect_attempts=0, connect_timeout=3)

    async def ask(nc, tenant: str, service: str, name: str, query) -> dict | str:
        try:
            return await QueryClient(nc, tenant, service, timeout=30).ask(name, query)
        except ServiceUnavailable:  # a forbidden publish never reaches a responder
            return "refused"

    committee, gateway = await connect("tenant-perm-a"), await connect("gateway")
    try:
        probe = PrintRoster(tenant="perm-a", compound="perm-a", actor="t", building="1", format="pdf")
        own = {await ask(committee, "perm-a", s, "probe", probe) != "refused" for s in ("roster", "registry")}
        other = await ask(committee, "perm-b", "roster", "print_roster", probe.model_copy(update={"tenant": "perm-b"}))
        try:
            await committee.jetstream().object_store(FILES_BUCKET)
            committee_files = "reached"
        except Exception:  # noqa: BLE001 - no permission for the JetStream API
            committee_files = "refused"
        sheet = "\n".join(",".join(row) for row in [HEADER, *sheet_rows(3, building="7")]).encode("utf-8-sig")
        upload = await files.put(gateway, "import", "perm-a", sheet, suffix="csv", media_type="text/csv",
                                 filename="upload.csv")
        imported = await ask(committee, "perm-a", "registry", "import_residents",
                             ImportResidents(tenant="perm-a", compound="perm-a", actor="t", upload=upload))
        printed = b""
        for _ in range(100):  # the roster read model has the building within moments of the import
            reply = await ask(committee, "perm-a", "roster", "print_roster",
                              probe.model_copy(update={"building": "7"}))
            if isinstance(reply, dict) and reply.get("ok"):
                printed = await files.take(gateway, RosterPrinted.model_validate(reply).file, "perm-a")
                break
            await asyncio.sleep(0.2)
    finally:
        await committee.close()
        await gateway.close()
    return {"own_queries": "answered" if own == {True} else "refused", "other_committee_roster": other,
            "committee_files": committee_files, "imported": imported.get("residents_added"), "printed": printed}


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
