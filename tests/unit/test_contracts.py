"""The registry's AsyncAPI contract: docs/asyncapi/registry.json is what the code says, and what the
code says is what the handler and the event log really send."""
from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

import pytest

from shared.commands.registry import COMMANDS
from shared.errors import Problem
from shared.eventlog.envelope import H_TYPE, Metadata, encode, event_classes
from shared.eventlog.subjects import AggregateSubject, command_filter
from shared.events.registry import CompoundRegistered
from services.registry.application.service import CommandResult
from services.registry.entrypoints.asyncapi import (
    CommandAccepted, CommandRefused, _NeverCalled, asyncapi_document, render,
)
from services.registry.entrypoints.commands import dispatch, problem_reply

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "asyncapi" / "registry.json"
REGENERATE = ".venv/bin/python -m services.registry.entrypoints.asyncapi > docs/asyncapi/registry.json"


@pytest.fixture(scope="module")
def doc() -> dict:
    return asyncapi_document()


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


def test_the_committed_contract_is_what_the_code_generates(doc):
    generated = render(doc)
    committed = CONTRACT.read_text(encoding="utf-8") if CONTRACT.exists() else ""
    assert committed == generated, (
        f"docs/asyncapi/registry.json is out of date with the code; regenerate it with\n    {REGENERATE}\n"
        f"and commit it.\n{drift(committed, generated)}")


def test_generating_the_contract_twice_gives_the_same_document(doc):
    assert render(asyncapi_document()) == render(doc)


def test_the_script_prints_the_committed_contract_whatever_the_hash_seed():
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-m", "services.registry.entrypoints.asyncapi"], cwd=ROOT, env=env,
                         capture_output=True, check=True).stdout
    assert out.decode("utf-8") == CONTRACT.read_text(encoding="utf-8"), f"regenerate with\n    {REGENERATE}"


def test_the_contract_is_asyncapi_3_for_the_registry(doc):
    assert doc["asyncapi"].startswith("3.")
    assert doc["info"]["title"] == "Louzu registry"
    assert doc["servers"] and all(server["protocol"] == "nats" for server in doc["servers"].values())


def test_every_command_is_a_message_on_the_subject_the_service_subscribes_to(doc):
    messages = messages_on(doc, command_filter("registry"))
    assert sorted(m["name"] for m in messages.values()) == sorted(COMMANDS)
    operation = next(o for o in doc["operations"].values() if o["channel"]["$ref"].endswith("registry%20commands"))
    assert operation["action"] == "receive"
    assert {resolve(doc, m["$ref"])["title"] for m in operation["reply"]["messages"]} == {"CommandAccepted",
                                                                                          "CommandRefused"}


def test_every_registry_event_is_a_message_on_its_aggregate_subject(doc):
    documented = {}
    for channel in doc["channels"].values():
        match = re.fullmatch(r"louzu\.evt\.\{tenant\}\.\{compound\}\.registry\.(\w+)\.\{id\}", channel.get("address") or "")
        if match:
            assert set(channel["parameters"]) == {"tenant", "compound", "id"}
            for ref in channel["messages"].values():
                documented[resolve(doc, ref["$ref"])["name"]] = match[1]
    expected = {cls.ce_type(): cls.aggregate for cls in event_classes().values() if cls.service == "registry"}
    assert documented == expected


def test_every_reference_in_the_contract_resolves(doc):
    for ref in refs(doc):
        assert ref.startswith("#/"), ref
        resolve(doc, ref)


def test_component_names_follow_the_asyncapi_pattern(doc):
    for kind, components in doc["components"].items():
        for name in components:
            assert re.fullmatch(r"[a-zA-Z0-9.\-_]+", name), f"components/{kind}/{name}"


def test_an_accepted_command_replies_as_documented():
    CommandAccepted.model_validate(CommandResult(("e1", "e2"), 7).as_dict())
    CommandAccepted.model_validate(CommandResult((), 7, duplicate=True).as_dict())


async def test_a_refused_command_replies_as_documented():
    CommandRefused.model_validate(problem_reply(Problem("busy", "忙", "busy")))
    CommandRefused.model_validate(await dispatch(_NeverCalled(), "t1", "no_such_command", {}))
    CommandRefused.model_validate(await dispatch(_NeverCalled(), "t1", "register_compound", {"tenant": "t1"}))


def test_an_appended_event_carries_exactly_the_documented_headers(doc):
    event = CompoundRegistered(compound="yinghuayuan", name="樱花苑", town="taopu", registered_by="u1",
                               registered_at=datetime(2022, 4, 1, tzinfo=timezone.utc))
    where = AggregateSubject.make("t1", "yinghuayuan", "registry", "compound", "yinghuayuan")
    headers, _body = encode(where, event, Metadata("cmd-00000001", source="/louzu/registry/u1"), 0)
    schema = doc["components"]["schemas"]["CloudEventsHeaders"]
    assert set(headers) == set(schema["required"]) == set(schema["properties"])
    message = doc["components"]["messages"]["CompoundRegistered"]
    assert message["headers"]["allOf"][1]["properties"][H_TYPE]["const"] == headers[H_TYPE]
