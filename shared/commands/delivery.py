"""Commands the delivery service accepts over NATS request–reply (`louzu.cmd.<tenant>.delivery.<name>`).

A new request or purchase may leave its id out: it is then derived from the command id, so a retry
addresses the same aggregate."""
from __future__ import annotations

from pydantic import Field

from shared.commands.base import Building, Command, Day, Household, Ident, Text, Name
from shared.events.delivery import AssigneeKind, Category, FailReason, Scope, Source, Urgency

ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"  # a new request's or purchase's id: a subject token


class RequestDelivery(Command):
    name: str = "request_delivery"
    request_id: str | None = Field(default=None, pattern=ID, description="None: derived from the command id")
    household_id: Household
    building: Building
    resident_id: Ident | None = None
    on_behalf: bool = Field(default=False, description="a cadre asks for the household")
    items: Text(500) = Field(description="what to bring, e.g. 降压药 2 盒")
    category: Category
    source: Source = Field(default="shop", description="where the items come from")
    urgency: Urgency = "normal"


class AcceptDelivery(Command):
    name: str = "accept_delivery"
    request_id: Ident


class AssignDelivery(Command):
    name: str = "assign_delivery"
    request_id: Ident
    assignee_id: Ident
    assignee_kind: AssigneeKind
    take: bool = Field(default=False, description="a volunteer takes it: refused if someone else holds it already")


class PickUpDelivery(Command):
    name: str = "pick_up_delivery"
    request_id: Ident
    received_at_gate: bool = Field(default=False, description="relatives' items were logged at the gate post")
    note: Text(500, required=False) = ""


class CompleteDelivery(Command):
    name: str = "complete_delivery"
    request_id: Ident
    confirmed_by_resident: bool = False
    note: Text(500, required=False) = ""


class FailDelivery(Command):
    name: str = "fail_delivery"
    request_id: Ident
    reason: FailReason
    note: Text(500, required=False) = ""
    retry_allowed: bool = True


class RetryDelivery(Command):
    name: str = "retry_delivery"
    request_id: Ident


class CancelDelivery(Command):
    name: str = "cancel_delivery"
    request_id: Ident
    reason: Text(500)


class EscalateDelivery(Command):
    name: str = "escalate_delivery"
    request_id: Ident
    to_cadre_id: Ident


class OpenGroupPurchase(Command):
    name: str = "open_group_purchase"
    purchase_id: str | None = Field(default=None, pattern=ID, description="None: derived from the command id")
    scope: Scope = "building"
    building: Building | None = None
    supplier: Name(200)
    offer: Text(500)
    unit_price_fen: int = Field(ge=-10**9, le=10**9, description="price of one unit in fen (分)")
    delivery_due: Day


class OrderGroupPurchase(Command):
    name: str = "order_group_purchase"
    purchase_id: Ident
    household_id: Household
    building: Building
    quantity: int = Field(ge=-10**6, le=10**6, description="units ordered (the rules allow 1–20)")


class CancelGroupPurchaseOrder(Command):
    name: str = "cancel_group_purchase_order"
    purchase_id: Ident
    household_id: Household


class CloseGroupPurchase(Command):
    name: str = "close_group_purchase"
    purchase_id: Ident


class RecordGroupPurchaseArrival(Command):
    name: str = "record_group_purchase_arrival"
    purchase_id: Ident
    note: Text(500, required=False) = ""


COMMANDS: dict[str, type[Command]] = {c.model_fields["name"].default: c for c in (
    RequestDelivery, AcceptDelivery, AssignDelivery, PickUpDelivery, CompleteDelivery, FailDelivery, RetryDelivery,
    CancelDelivery, EscalateDelivery, OpenGroupPurchase, OrderGroupPurchase, CancelGroupPurchaseOrder,
    CloseGroupPurchase, RecordGroupPurchaseArrival)}
