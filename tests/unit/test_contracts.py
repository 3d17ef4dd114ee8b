"""The AsyncAPI contracts: docs/asyncapi/<service>.json is what the code says, and what the code says
is what the handlers and the event log really send. Every service with events has one."""
from __future__ import annotations

import difflib
import importlib
import os
import pkgutil
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

import pytest

import shared.asyncapi
import shared.events.lockdown  # registers the lockdown events
import shared.events.registry
from shared.commanding import dispatch as shared_dispatch
from shared.commands.delivery import COMMANDS as DELIVERY_COMMANDS
from shared.commands.lockdown import COMMANDS as LOCKDOWN_COMMANDS
from shared.commands.registry import COMMANDS
from shared.commands.roster import COMMANDS as ROSTER_COMMANDS
from shared.commands.gateway import COMMANDS as GATEWAY_COMMANDS
from shared.errors import Problem
from shared.eventlog.envelope import H_TYPE, Metadata, encode, event_classes
from shared.eventlog.subjects import AggregateSubject, command_filter, query_filter
from shared.queries.registry import QUERIES as REGISTRY_QUERIES
from shared.queries.roster import QUERIES as ROSTER_QUERIES
from shared.events.lockdown import TownPolicySet
from shared.events.registry import CompoundRegistered
from shared.asyncapi import CommandAccepted, CommandRefused
from services.cli import contracts
from services.registry.application.service import CommandResult
from services.registry.entrypoints.commands import dispatch, problem_reply

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"registry": COMMANDS, "lockdown": LOCKDOWN_COMMANDS, "delivery": DELIVERY_COMMANDS,
            "roster": ROSTER_COMMANDS, "gateway": GATEWAY_COMMANDS}


DOCUMENTS = ROOT / "docs" / "asyncapi"
REGENERATE = ".venv/bin/python -m services asyncapi"


def contract(service: str) -> shared.asyncapi.Contract:
    return contracts()[service]


def contract_of(service: str) -> Path:
    return DOCUMENTS / f"{service}.json"


def louzu(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services", *args], cwd=ROOT, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module", params=sorted(SERVICES))
def service(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def any_doc(service) -> dict:
    return contract(service).document()


@pytest.fixture(scope="module")
def doc() -> dict:
    return contract("registry").document()


@pytest.fixture(scope="module")
def lockdown_doc() -> dict:
    return contract("lockdown").document()


def drift(committed: str, generated: str) -> str:
    diff = difflib.unified_diff(committed.splitlines(), generated.splitlines(), "committed", "generated", lineterm="",
                                n=1)
    return "\n".join(list(diff)[:40])


def resolve(doc: dict, ref: str):
    """The object a local `$ref` points at, following references to references."""
    node = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
    return resolve(doc, node["$ref"]) if isinstance(node, dict) and set(node) == {"$ref"} else node


def refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def messages_on(doc: dict, address: str) -> dict:
    channel = next(c for c in doc["channels"].values() if c.get("address") == address)
    return {key: resolve(doc, ref["$ref"]) for key, ref in channel["messages"].items()}


# --- every service's contract ---


def test_every_service_with_events_has_a_contract():
    import shared.events
    for module in pkgutil.iter_modules(shared.events.__path__):
        importlib.import_module(f"shared.events.{module.name}")
    services = {cls.service for cls in event_classes().values() if cls.__module__.startswith("shared.events.")}
    assert services == set(SERVICES)
    assert {path.stem for path in (ROOT / "docs" / "asyncapi").glob("*.json")} == services


def test_the_committed_contract_is_what_the_code_generates(service, any_doc):
    generated = shared.asyncapi.render(any_doc)
    committed = contract_of(service).read_text(encoding="utf-8") if contract_of(service).exists() else ""
    assert committed == generated, (
        f"docs/asyncapi/{service}.json is out of date with the code; regenerate it with\n    {REGENERATE}\n"
        f"and commit it.\n{drift(committed, generated)}")


def test_generating_the_contract_twice_gives_the_same_document(service, any_doc):
    assert contract(service).rendered() == shared.asyncapi.render(any_doc).encode("utf-8")


def test_every_service_declares_one_contract_and_the_cli_knows_them_all():
    assert set(contracts()) == set(SERVICES)
    for service in SERVICES:
        module = importlib.import_module(f"services.{service}.entrypoints.asyncapi")
        assert module.CONTRACT is contract(service) and module.CONTRACT.service == service


def test_louzu_asyncapi_check_passes_on_the_committed_documents_whatever_the_hash_seed():
    done = louzu("asyncapi", "--check", env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert done.returncode == 0, f"{done.stderr}\nregenerate with\n    {REGENERATE}"


def test_louzu_asyncapi_writes_every_document_byte_for_byte(tmp_path):
    done = louzu("asyncapi", "--dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{s}.json" for s in SERVICES)
    for service in SERVICES:
        assert (tmp_path / f"{service}.json").read_bytes() == contract(service).rendered()


def test_louzu_asyncapi_check_fails_with_a_diff_on_a_drifted_document_and_writes_nothing(tmp_path):
    shared.asyncapi.write_documents(contracts().values(), tmp_path)
    stale = tmp_path / "lockdown.json"
    stale.write_text(stale.read_text(encoding="utf-8").replace("Louzu lockdown", "Louzu lockdown (old)"),
                     encoding="utf-8")
    done = louzu("asyncapi", "--check", "--dir", str(tmp_path))
    assert done.returncode == 1
    assert "lockdown.json is out of date" in done.stderr and "(old)" in done.stderr
    assert "registry.json" not in done.stderr
    assert "(old)" in stale.read_text(encoding="utf-8")


def test_writing_the_documents_reports_only_the_files_that_changed(tmp_path):
    assert len(shared.asyncapi.write_documents(contracts().values(), tmp_path)) == len(SERVICES)
    (tmp_path / "roster.json").write_text("{}", encoding="utf-8")
    assert shared.asyncapi.write_documents(contracts().values(), tmp_path) == [tmp_path / "roster.json"]
    assert shared.asyncapi.drift(contract("roster"), tmp_path) is None


def test_louzu_asyncapi_refuses_an_unknown_service(tmp_path):
    done = louzu("asyncapi", "--dir", str(tmp_path), "nosuch")
    assert done.returncode == 2 and "unknown service 'nosuch'" in done.stderr
    assert not list(tmp_path.iterdir())


def test_the_contract_is_asyncapi_3_for_its_service(service, any_doc):
    assert any_doc["asyncapi"].startswith("3.")
    assert any_doc["info"]["title"] == f"Louzu {service}"
    assert any_doc["id"] == f"urn:louzu:{service}"
    assert any_doc["servers"] and all(server["protocol"] == "nats" for server in any_doc["servers"].values())


def test_every_command_is_a_message_on_the_subject_the_service_subscribes_to(service, any_doc):
    messages = messages_on(any_doc, command_filter(service))
    assert sorted(m["name"] for m in messages.values()) == sorted(SERVICES[service])
    for message in messages.values():
        assert resolve(any_doc, message["payload"]["$ref"])["title"] == SERVICES[service][message["name"]].__name__
    channel = next(key for key, c in any_doc["channels"].items() if c.get("address") == command_filter(service))
    operation = next(o for o in any_doc["operations"].values()
                     if resolve(any_doc, o["channel"]["$ref"]) is any_doc["channels"][channel])
    assert operation["action"] == "receive"
    assert len(operation["messages"]) == len(SERVICES[service])
    assert {resolve(any_doc, m["$ref"])["title"] for m in operation["reply"]["messages"]} == {"CommandAccepted",
                                                                                              "CommandRefused"}


def test_every_event_is_a_message_on_its_aggregate_subject(service, any_doc):
    documented = {}
    pattern = rf"louzu\.evt\.\{{tenant\}}\.\{{compound\}}\.{service}\.(\w+)\.\{{id\}}"
    for channel in any_doc["channels"].values():
        match = re.fullmatch(pattern, channel.get("address") or "")
        if match:
            assert set(channel["parameters"]) == {"tenant", "compound", "id"}
            operation = next(o for o in any_doc["operations"].values() if resolve(any_doc, o["channel"]["$ref"]) is channel)
            assert operation["action"] == "send"
            assert len(operation["messages"]) == len(channel["messages"])
            for ref in channel["messages"].values():
                documented[resolve(any_doc, ref["$ref"])["name"]] = match[1]
    expected = {cls.ce_type(): cls.aggregate for cls in event_classes().values() if cls.service == service}
    assert expected and documented == expected


def test_no_other_channel_is_documented(service, any_doc):
    events = {cls.aggregate for cls in event_classes().values() if cls.service == service}
    addresses = {c.get("address") for c in any_doc["channels"].values()}
    queries = {query_filter(service)} if contract(service).queries else set()
    assert addresses == {None, command_filter(service)} | queries | {
        f"louzu.evt.{{tenant}}.{{compound}}.{service}.{aggregate}.{{id}}" for aggregate in events}


@pytest.mark.parametrize("owner, queries", [("roster", ROSTER_QUERIES), ("registry", REGISTRY_QUERIES)])
def test_every_query_is_a_message_on_the_subject_the_service_serves_with_its_reply(owner, queries):
    doc = contract(owner).document()
    assert contract(owner).queries is queries
    messages = messages_on(doc, query_filter(owner))
    assert {m["name"]: resolve(doc, m["payload"]["$ref"])["title"] for m in messages.values()} == {
        name: request.__name__ for name, (request, _) in queries.items()}
    channel = next(key for key, c in doc["channels"].items() if c.get("address") == query_filter(owner))
    operation = next(o for o in doc["operations"].values() if resolve(doc, o["channel"]["$ref"]) is doc["channels"][channel])
    assert operation["action"] == "receive"
    assert {resolve(doc, m["$ref"])["title"] for m in operation["reply"]["messages"]} == {
        reply.__name__ for _, reply in queries.values()} | {"QueryRefused"}
    assert doc["channels"][channel]["bindings"]["nats"]["queue"] == f"{owner}-queries"


async def test_a_query_answers_as_documented_refused_or_replied():
    from shared.queries.base import QueryRefused
    from shared.queries.roster import PrintRoster, RosterPrinted
    from shared.queries.serving import answer
    never = shared.asyncapi.never_execute
    QueryRefused.model_validate(await answer(ROSTER_QUERIES, never, "t1", "no_such_query", {}))
    QueryRefused.model_validate(await answer(ROSTER_QUERIES, never, "t1", "print_roster", {"tenant": "t1"}))
    wrong = await answer(ROSTER_QUERIES, never, "t1", "print_roster",
                         {"tenant": "t2", "compound": "c1", "actor": "u", "format": "pdf"})
    assert QueryRefused.model_validate(wrong).error.code == "wrong_tenant"
    stored = {"object": "roster/t1/abc.pdf", "size": 3, "media_type": "application/pdf", "digest": "SHA-256=AAA=",
              "filename": "roster-41.pdf"}

    async def printed(query: PrintRoster) -> RosterPrinted:
        return RosterPrinted(file=stored)
    reply = await answer(ROSTER_QUERIES, printed, "t1", "print_roster",
                         {"tenant": "t1", "compound": "c1", "actor": "u", "format": "pdf", "building": "41"})
    assert RosterPrinted.model_validate(reply).file.object == "roster/t1/abc.pdf"


def test_every_reference_in_the_contract_resolves(service, any_doc):
    for ref in refs(any_doc):
        assert ref.startswith("#/"), ref
        resolve(any_doc, ref)


def test_component_names_follow_the_asyncapi_pattern(service, any_doc):
    for kind, components in any_doc["components"].items():
        for name in components:
            assert re.fullmatch(r"[a-zA-Z0-9.\-_]+", name), f"components/{kind}/{name}"


def test_the_generator_refuses_an_event_of_another_service():
    with pytest.raises(ValueError, match="not of 'lockdown'"):
        shared.asyncapi.asyncapi_document("lockdown", LOCKDOWN_COMMANDS, [CompoundRegistered], title="t",
                                          description="d", register=contract("lockdown").register)


def test_the_generator_refuses_a_service_that_registers_no_command_handler():
    with pytest.raises(ValueError, match="subscribed nothing"):
        shared.asyncapi.asyncapi_document("registry", COMMANDS, shared.asyncapi.service_events("registry"),
                                          title="t", description="d", register=lambda broker: None)


# --- the registry ---


def test_an_accepted_command_replies_as_documented():
    CommandAccepted.model_validate(CommandResult(("e1", "e2"), 7).as_dict())
    CommandAccepted.model_validate(CommandResult((), 7, duplicate=True).as_dict())


async def test_a_refused_command_replies_as_documented():
    CommandRefused.model_validate(problem_reply(Problem("busy", "忙", "busy")))
    CommandRefused.model_validate(await dispatch(shared.asyncapi.NeverCalled(), "t1", "no_such_command", {}))
    CommandRefused.model_validate(await dispatch(shared.asyncapi.NeverCalled(), "t1", "register_compound", {"tenant": "t1"}))


def test_an_appended_event_carries_exactly_the_documented_headers(doc):
    event = CompoundRegistered(compound="yinghuayuan", name="樱花苑", town="taopu", registered_by="u1",
                               registered_at=datetime(2022, 4, 1, tzinfo=timezone.utc))
    where = AggregateSubject.make("t1", "yinghuayuan", "registry", "compound", "yinghuayuan")
    headers, _body = encode(where, event, Metadata("cmd-00000001", source="/louzu/registry/u1"), 0)
    schema = doc["components"]["schemas"]["CloudEventsHeaders"]
    assert set(headers) == set(schema["required"]) == set(schema["properties"])
    message = doc["components"]["messages"]["CompoundRegistered"]
    assert message["headers"]["allOf"][1]["properties"][H_TYPE]["const"] == headers[H_TYPE]


# --- the lockdown service ---


def test_the_town_aggregate_is_documented_under_its_own_tenant(lockdown_doc):
    town = next(c for c in lockdown_doc["channels"].values()
                if c.get("address") == "louzu.evt.{tenant}.{compound}.lockdown.town.{id}")
    assert "town-<town>" in town["parameters"]["tenant"]["description"]
    assert "`all`" in town["parameters"]["compound"]["description"]
    building = next(c for c in lockdown_doc["channels"].values()
                    if c.get("address") == "louzu.evt.{tenant}.{compound}.lockdown.building.{id}")
    assert "residents' committee" in building["parameters"]["tenant"]["description"]


async def test_a_lockdown_command_replies_as_documented(lockdown_doc):
    module = shared.asyncapi
    refused = await shared_dispatch(LOCKDOWN_COMMANDS, shared.asyncapi.never_execute, "t1", "no_such_command", {})
    module.CommandRefused.model_validate(refused)
    invalid = await shared_dispatch(LOCKDOWN_COMMANDS, shared.asyncapi.never_execute, "t1", "seal_building",
                                    {"tenant": "t1"})
    module.CommandRefused.model_validate(invalid)
    module.CommandAccepted.model_validate(CommandResult(("e1",), 3).as_dict())


def test_an_appended_town_event_carries_exactly_the_documented_headers(lockdown_doc):
    event = TownPolicySet(town="taopu", policy_version=1, seal_days=2, monitoring_days=12, max_out_minutes=120,
                          report_times=("08:00", "14:00"), set_by="u1", set_at=datetime(2022, 4, 1, tzinfo=timezone.utc))
    where = AggregateSubject.make("town-taopu", "all", "lockdown", "town", "taopu")
    headers, _body = encode(where, event, Metadata("cmd-00000001", source="/louzu/lockdown/u1"), 0)
    schema = lockdown_doc["components"]["schemas"]["CloudEventsHeaders"]
    assert set(headers) == set(schema["required"]) == set(schema["properties"])
    message = lockdown_doc["components"]["messages"]["TownPolicySet"]
    assert message["name"] == headers[H_TYPE]
    assert message["headers"]["allOf"][1]["properties"][H_TYPE]["const"] == headers[H_TYPE]
