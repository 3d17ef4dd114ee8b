"""Delivery commands over NATS request–reply (the declaration the AsyncAPI contract is built from)."""
from __future__ import annotations

from faststream.nats import NatsBroker

from shared.commanding import register_commands
from shared.commands.delivery import COMMANDS
from services.delivery.application.service import DeliveryService

TITLE = "delivery commands"
DESCRIPTION = "RequestDelivery, AssignDelivery, CompleteDelivery, OpenGroupPurchase, … by subject suffix"


def register_command_handlers(broker: NatsBroker, service: DeliveryService) -> None:
    register_commands(broker, "delivery", COMMANDS, lambda command: service.execute(command), title=TITLE,
                      description=DESCRIPTION)
