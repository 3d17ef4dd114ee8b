"""Registry commands over NATS request–reply."""
from __future__ import annotations

from faststream.nats import NatsBroker

from shared.commanding import dispatch as _dispatch, problem_reply, validation_problem
from shared.commanding import register_commands
from shared.commands.registry import COMMANDS
from services.registry.application.service import RegistryService

__all__ = ["dispatch", "problem_reply", "register_command_handlers", "validation_problem"]


def register_command_handlers(broker: NatsBroker, service: RegistryService) -> None:
    register_commands(broker, "registry", COMMANDS, lambda command: service.execute(command), title="registry commands",
                      description="RegisterCompound, RegisterResident, … by subject suffix")


async def dispatch(service: RegistryService, tenant: str, name: str, body: dict) -> dict:
    return await _dispatch(COMMANDS, lambda command: service.execute(command), tenant, name, body)
