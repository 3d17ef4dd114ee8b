"""Roster commands over NATS request–reply (the declaration the AsyncAPI contract is built from)."""
from __future__ import annotations

from faststream.nats import NatsBroker

from shared.commanding import register_commands
from shared.commands.roster import COMMANDS
from services.roster.application.service import RosterService

TITLE = "roster commands"
DESCRIPTION = "EnrollDutyPerson, OpenGatePost, PlanRota, SwapShift, RequestReinforcement, … by subject suffix"


def register_command_handlers(broker: NatsBroker, service: RosterService) -> None:
    register_commands(broker, "roster", COMMANDS, lambda command: service.execute(command), title=TITLE,
                      description=DESCRIPTION)
