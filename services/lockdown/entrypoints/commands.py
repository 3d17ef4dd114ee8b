"""Lockdown commands over NATS request–reply."""
from __future__ import annotations

from faststream.nats import NatsBroker

from shared.commanding import register_commands
from shared.commands.lockdown import COMMANDS
from services.lockdown.application.service import LockdownService

TITLE = "lockdown commands"
DESCRIPTION = "SealBuilding, RecordGatePass, CheckOffSample, … by subject suffix"


def register_command_handlers(broker: NatsBroker, service: LockdownService) -> None:
    register_commands(broker, "lockdown", COMMANDS, lambda command: service.execute(command), title=TITLE,
                      description=DESCRIPTION)
