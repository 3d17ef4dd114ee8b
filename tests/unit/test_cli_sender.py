"""Every `louzu` command verb sends its command and prints what came back in one way
(`shared.cli.send_command`): the accepted reply as JSON on standard output, a refusal in Chinese
and English on standard error, and an exit status a script can test."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from shared.cli import print_problem, print_reply, send_command
from shared.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[2]
REFUSAL = {"ok": False, "error": {"code": "invalid_field", "message_zh": "楼号不能为空",
                                   "message_en": "the building is required", "field": "building"}}
ACCEPTED = {"ok": True, "event_ids": ["e1"], "last_seq": 7, "duplicate": False}


def test_an_accepted_reply_is_its_json_on_standard_output(capsys):
    assert print_reply(ACCEPTED) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == ACCEPTED and err == ""


def test_a_refusal_is_chinese_english_and_the_field_on_standard_error(capsys):
    assert print_reply(REFUSAL) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["楼号不能为空", "the building is required", "(field: building)"]


def test_a_refusal_without_a_field_names_none(capsys):
    print_problem({**REFUSAL["error"], "field": None})
    assert capsys.readouterr().err.splitlines() == ["楼号不能为空", "the building is required"]


def test_an_accepted_reply_can_be_a_sentence_that_says_when_nothing_changed(capsys):
    assert print_reply(ACCEPTED, "compound y registered") == 0
    assert print_reply({**ACCEPTED, "event_ids": [], "duplicate": True}, "compound y registered") == 0
    assert capsys.readouterr().out.splitlines() == ["compound y registered", "compound y registered (unchanged)"]


class FakeNats:
    closed = False

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
def bus(monkeypatch):
    """nats.connect and CommandClient.send stood in for: what was sent, and what the service answers."""
    import nats
    from shared.commanding import CommandClient
    sent, answers, nc = [], [], FakeNats()

    async def connect(url, **kwargs):
        return nc

    async def send(client, name, body):
        sent.append((client.tenant, client.service, name, body))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(nats, "connect", connect)
    monkeypatch.setattr(CommandClient, "send", send)
    return sent, answers, nc


SETTINGS = PlatformSettings(nats_url="nats://127.0.0.1:1", database_url="postgresql://unused")


async def test_a_command_goes_to_its_service_with_a_fresh_command_id_and_its_reply_is_printed(bus, capsys):
    sent, answers, nc = bus
    answers.extend([ACCEPTED, ACCEPTED])
    assert await send_command(SETTINGS, "lockdown", "t1", "seal_building", {"tenant": "t1", "building": "38"}) == 0
    assert await send_command(SETTINGS, "lockdown", "t1", "seal_building", {"tenant": "t1", "building": "38"}) == 0
    (tenant, service, name, first), (_, _, _, second) = sent
    assert (tenant, service, name) == ("t1", "lockdown", "seal_building")
    assert first["building"] == "38" and len(first["command_id"]) == 32
    assert first["command_id"] != second["command_id"]
    assert nc.closed
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [ACCEPTED, ACCEPTED]


async def test_a_command_id_the_verb_chose_is_kept(bus):
    sent, answers, _ = bus
    answers.append(ACCEPTED)
    await send_command(SETTINGS, "registry", "t1", "register_compound", {"command_id": "compound:y"})
    assert sent[0][3]["command_id"] == "compound:y"


async def test_a_refused_command_exits_1_with_the_problem(bus, capsys):
    _, answers, _ = bus
    answers.append(REFUSAL)
    assert await send_command(SETTINGS, "roster", "t1", "plan_rota", {}) == 1
    assert "(field: building)" in capsys.readouterr().err


async def test_a_service_that_is_not_running_is_a_message_and_exit_1(bus, capsys):
    from shared.commanding import ServiceUnavailable
    _, answers, nc = bus
    answers.append(ServiceUnavailable("the delivery service is not running (服务未运行)"))
    assert await send_command(SETTINGS, "delivery", "t1", "request_delivery", {}) == 1
    out, err = capsys.readouterr()
    assert out == "" and "delivery service is not running" in err
    assert nc.closed


def test_no_cli_module_sends_commands_its_own_way():
    """shared/cli.py is the one command-line module that builds a CommandClient or reads a refusal."""
    found = []
    for path in [*ROOT.glob("services/*/entrypoints/*cli*.py"), *ROOT.glob("services/*/entrypoints/common.py"),
                 ROOT / "services" / "cli.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id in ("CommandClient", "ServiceUnavailable"):
                found.append((str(path.relative_to(ROOT)), node.id))
            if isinstance(node, ast.Constant) and node.value == "message_zh":
                found.append((str(path.relative_to(ROOT)), "message_zh"))
    assert found == []
