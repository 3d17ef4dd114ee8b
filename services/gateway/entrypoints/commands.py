"""Gateway commands over NATS request–reply (the declaration the AsyncAPI contract is built from)."""
from __future__ import annotations

from faststream.nats import NatsBroker

from shared.commanding import register_commands
from shared.commands.gateway import COMMANDS
from services.gateway.application.access import AccessService

TITLE = "gateway commands"
DESCRIPTION = "RegisterUser, ChangePassword, GrantRole, RevokeRole by subject suffix"


def register_command_handlers(broker: NatsBroker, service: AccessService) -> None:
    register_commands(broker, "gateway", COMMANDS, lambda command: service.execute(command), title=TITLE,
                      description=DESCRIPTION)
