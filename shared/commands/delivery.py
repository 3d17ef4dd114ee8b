"""Commands the delivery service accepts over NATS request–reply (`louzu.cmd.<tenant>.delivery.<name>`).

A new request or purchase may leave its id out: it is then derived from the command id, so a retry
addresses the same aggregate."""
from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.commands.base import Command
from shared.events.delivery import AssigneeKind, Category, FailReason, Scope, Source, Urgency

ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class RequestDelivery(Command):
    name: str = "request_delivery"
    request_id: str | None = Field(default=None, pattern=ID, description="None: derived from the command id")
    household_id: str
    building: str
    resident_id: str | None = None
    on_behalf: bool = Field(default=False, description="a cadre asks for the household")
    items: str = Field(min_length=1, max_length=500)
    category: Category
    source: Source
    urgency: Urgency = "normal"


class AcceptDelivery(Command):
    name: str = "accept_delivery"
    request_id: str


class AssignDelivery(Command):
    name: str = "assign_delivery"
    request_id: str
    assignee_id: str = Field(min_length=1, max_length=64)
    assignee_kind: AssigneeKind
    take: bool = Field(default=False, description="a volunteer takes it: refused if someone else holds it already")


class PickUpDelivery(Command):
    name: str = "pick_up_delivery"
    request_id: str
    received_at_gate: bool = Field(default=False, description="relatives' items were logged at the gate post")
    note: str = Field(default="", max_length=500)


class CompleteDelivery(Command):
    name: str = "complete_delivery"
    request_id: str
    confirmed_by_resident: bool = False
    note: str = Field(default="", max_length=500)


class FailDelivery(Command):
    name: str = "fail_delivery"
    request_id: str
    reason: FailReason
    note: str = Field(default="", max_length=500)
    retry_allowed: bool = True


class RetryDelivery(Command):
    name: str = "retry_delivery"
    request_id: str


class CancelDelivery(Command):
    name: str = "cancel_delivery"
    request_id: str
    reason: str = Field(min_length=1, max_length=500)


class EscalateDelivery(Command):
    name: str = "escalate_delivery"
    request_id: str
    to_cadre_id: str = Field(min_length=1, max_length=64)


class OpenGroupPurchase(Command):
    name: str = "open_group_purchase"
    purchase_id: str | None = Field(default=None, pattern=ID, description="None: derived from the command id")
    scope: Scope = "building"
    building: str | None = None
    supplier: str = Field(min_length=1, max_length=200)
    offer: str = Field(min_length=1, max_length=500)
    unit_price_fen: int = Field(description="price of one unit in fen (分)")
    delivery_due: date


class OrderGroupPurchase(Command):
    name: str = "order_group_purchase"
    purchase_id: str
    household_id: str
    building: str
    quantity: int


class CancelGroupPurchaseOrder(Command):
    name: str = "cancel_group_purchase_order"
    purchase_id: str
    household_id: str


class CloseGroupPurchase(Command):
    name: str = "close_group_purchase"
    purchase_id: str


class RecordGroupPurchaseArrival(Command):
    name: str = "record_group_purchase_arrival"
    purchase_id: str
    note: str = Field(default="", max_length=500)


COMMANDS: dict[str, type[Command]] = {c.model_fields["name"].default: c for c in (
    RequestDelivery, AcceptDelivery, AssignDelivery, PickUpDelivery, CompleteDelivery, FailDelivery, RetryDelivery,
    CancelDelivery, EscalateDelivery, OpenGroupPurchase, OrderGroupPurchase, CancelGroupPurchaseOrder,
    CloseGroupPurchase, RecordGroupPurchaseArrival)}
