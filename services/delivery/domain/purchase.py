"""A group purchase (团购) as state folded from events, and its rules: open with a price in fen and a
due day, households order 1–20 units while it is open, close with at least one order, then the goods
arrive. `summary` gives per-building counts and money that add up exactly (integer fen). No I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.commands import delivery as c
from shared.errors import DomainError
from shared.eventlog.envelope import Event
from shared.events import delivery as e
from shared.localtime import SHANGHAI

MAX_QUANTITY = 20
STATUS_ZH = {None: "不存在", "open": "接龙中", "closed": "已截单", "arrived": "已到货"}


@dataclass
class Order:
    building: str
    quantity: int


@dataclass
class Purchase:
    status: str | None = None
    purchase_id: str = ""
    scope: str = "building"
    building: str | None = None
    unit_price_fen: int = 0
    delivery_due: date | None = None
    orders: dict[str, Order] = field(default_factory=dict)
    withdrawn: set[str] = field(default_factory=set)


def purchase_id_of(cmd: c.OpenGroupPurchase) -> str:
    """The id of the purchase a command opens: its own, or one derived from the command id."""
    return cmd.purchase_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"louzu:purchase:{cmd.command_id}"))


def apply(p: Purchase, event: Event) -> Purchase:
    match event:
        case e.GroupPurchaseOpened():
            p.status, p.purchase_id, p.scope, p.building = "open", event.purchase_id, event.scope, event.building
            p.unit_price_fen, p.delivery_due = event.unit_price_fen, event.delivery_due
        case e.GroupPurchaseOrdered():
            p.orders[event.household_id] = Order(event.building, event.quantity)
            p.withdrawn.discard(event.household_id)
        case e.GroupPurchaseOrderCancelled():
            p.orders.pop(event.household_id, None)
            p.withdrawn.add(event.household_id)
        case e.GroupPurchaseClosed():
            p.status = "closed"
        case e.GroupPurchaseArrived():
            p.status = "arrived"
    return p


def _error(code: str, zh: str, en: str, field_name: str | None = None) -> DomainError:
    return DomainError(code, zh, en, field_name)


def _require(p: Purchase, *allowed: str) -> None:
    if p.status is None:
        raise _error("purchase_unknown", "没有这个团购", "no such group purchase", "purchase_id")
    if p.status not in allowed:
        raise _error("illegal_transition", f"该团购当前状态为「{STATUS_ZH[p.status]}」，不能进行此操作",
                     f"the group purchase is {p.status}; this cannot be done now", "purchase_id")


def open_purchase(p: Purchase, cmd: c.OpenGroupPurchase, now: datetime) -> list[Event]:
    if p.status is not None:
        return []
    if cmd.unit_price_fen <= 0:
        raise _error("price_not_positive", "单价必须大于 0（以分计）", "the unit price must be more than 0 fen", "unit_price_fen")
    if cmd.delivery_due < now.astimezone(SHANGHAI).date():
        raise _error("due_in_past", "送达日期不能早于今天", "the delivery day cannot be in the past", "delivery_due")
    if cmd.scope == "building" and not cmd.building:
        raise _error("building_required", "楼栋团购请填写楼号", "a building's group purchase needs the building", "building")
    return [e.GroupPurchaseOpened(
        purchase_id=purchase_id_of(cmd), scope=cmd.scope, building=cmd.building if cmd.scope == "building" else None,
        supplier=cmd.supplier, offer=cmd.offer, unit_price_fen=cmd.unit_price_fen, delivery_due=cmd.delivery_due,
        opened_by=cmd.actor, opened_at=now)]


def order(p: Purchase, cmd: c.OrderGroupPurchase, now: datetime) -> list[Event]:
    _require(p, "open")
    if not 1 <= cmd.quantity <= MAX_QUANTITY:
        raise _error("quantity_out_of_range", f"每户数量应为 1 到 {MAX_QUANTITY}",
                     f"a household may order 1 to {MAX_QUANTITY} units", "quantity")
    if p.scope == "building" and cmd.building != p.building:
        raise _error("wrong_building", f"本团购仅限 {p.building} 号楼",
                     f"this group purchase is for building {p.building} only", "building")
    known = p.orders.get(cmd.household_id)
    if known and (known.building, known.quantity) == (cmd.building, cmd.quantity):
        return []
    return [e.GroupPurchaseOrdered(purchase_id=p.purchase_id, household_id=cmd.household_id, building=cmd.building,
                                   quantity=cmd.quantity, ordered_by=cmd.actor, ordered_at=now)]


def cancel_order(p: Purchase, cmd: c.CancelGroupPurchaseOrder, now: datetime) -> list[Event]:
    _require(p, "open")
    if cmd.household_id not in p.orders:
        if cmd.household_id in p.withdrawn:
            return []
        raise _error("no_order", "该户没有订购", "this household has no order", "household_id")
    return [e.GroupPurchaseOrderCancelled(purchase_id=p.purchase_id, household_id=cmd.household_id,
                                          cancelled_by=cmd.actor, cancelled_at=now)]


def close(p: Purchase, cmd: c.CloseGroupPurchase, now: datetime) -> list[Event]:
    if p.status == "closed":
        return []
    _require(p, "open")
    if not p.orders:
        raise _error("no_orders", "还没有任何订购，不能截单", "there are no orders yet; nothing to close", "purchase_id")
    total = summary(p)["total"]
    return [e.GroupPurchaseClosed(purchase_id=p.purchase_id, households=total["households"], quantity=total["quantity"],
                                  amount_fen=total["amount_fen"], closed_by=cmd.actor, closed_at=now)]


def arrival(p: Purchase, cmd: c.RecordGroupPurchaseArrival, now: datetime) -> list[Event]:
    if p.status == "arrived":
        return []
    _require(p, "closed")
    return [e.GroupPurchaseArrived(purchase_id=p.purchase_id, note=cmd.note, received_by=cmd.actor, arrived_at=now)]


def _building_key(building: str) -> tuple:
    return (0, int(building), building) if building.isdigit() else (1, 0, building)


def summary(p: Purchase) -> dict:
    """Per building: households, units and amount in fen; and totals, which are the exact sums."""
    buildings: dict[str, dict[str, int]] = {}
    for o in p.orders.values():
        row = buildings.setdefault(o.building, {"households": 0, "quantity": 0, "amount_fen": 0})
        row["households"] += 1
        row["quantity"] += o.quantity
        row["amount_fen"] += o.quantity * p.unit_price_fen
    ordered = {b: buildings[b] for b in sorted(buildings, key=_building_key)}
    total = {k: sum(row[k] for row in ordered.values()) for k in ("households", "quantity", "amount_fen")}
    return {"purchase_id": p.purchase_id, "unit_price_fen": p.unit_price_fen, "buildings": ordered, "total": total}
