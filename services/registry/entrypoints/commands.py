"""Registry commands over NATS request–reply (FastStream): parse, execute, answer with the
result or a clear error. Never a stack trace on the wire."""
from __future__ import annotations

from faststream.nats import NatsBroker, NatsMessage
from pydantic import ValidationError

from shared.commands.registry import COMMANDS
from shared.errors import DomainError, Problem
from shared.eventlog.store import EventLogError
from shared.eventlog.subjects import command_filter
from shared.logging import get_logger
from services.registry.application.service import RegistryService

log = get_logger("louzu.registry")


def problem_reply(problem: Problem) -> dict:
    return {"ok": False, "error": problem.as_dict()}


def validation_problem(exc: ValidationError) -> Problem:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    return Problem("invalid_field", f"字段「{field}」无效：{first['type']}", f"field {field!r} is invalid: {first['msg']}",
                   field)


def register_command_handlers(broker: NatsBroker, service: RegistryService) -> None:
    @broker.subscriber(command_filter("registry"), queue="registry-commands", max_workers=256,
                       title="registry commands", description="RegisterCompound, RegisterResident, … by subject suffix")
    async def handle(body: dict, msg: NatsMessage) -> dict:
        _, _, tenant, _, name = msg.raw_message.subject.split(".")
        return await dispatch(service, tenant, name, body)


async def dispatch(service: RegistryService, tenant: str, name: str, body: dict) -> dict:
    command_type = COMMANDS.get(name)
    if command_type is None:
        return problem_reply(Problem("unknown_command", f"无法识别的指令「{name}」", f"unknown command {name!r}"))
    try:
        command = command_type.model_validate({**body, "name": name})
    except ValidationError as exc:
        return problem_reply(validation_problem(exc))
    if command.tenant != tenant:
        return problem_reply(Problem("wrong_tenant", "指令的居委与主题不符", "the command's tenant does not match its subject",
                                     "tenant"))
    try:
        return (await service.execute(command)).as_dict()
    except DomainError as exc:
        return problem_reply(exc.problem)
    except EventLogError as exc:
        log.error("registry.append_failed", command=name, tenant=tenant, error=str(exc))
        return problem_reply(Problem("log_unavailable", "事件日志暂时不可用，请稍后重试",
                                     "the event log is unavailable; retry shortly"))
