"""A delivery request as state folded from events, and its rules: requested → accepted → assigned →
picked up → delivered; a failed attempt goes back to the queue; during the seal only the gate-post
pair goes to the doors; relatives' items are logged at the gate first. Pure rules, no I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.commands import delivery as c
from shared.errors import DomainError
from shared.eventlog.envelope import Event
from shared.events import delivery as e
from services.delivery.domain.priority import priority

FINAL = ("delivered", "cancelled")
STATUS_ZH = {None: "不存在", "requested": "待受理", "accepted": "已受理", "assigned": "已指派", "picked_up": "已取件",
             "delivered": "已送达", "failed": "配送失败", "cancelled": "已取消"}
ACTION = {"accept": ("受理", "accepted"), "assign": ("指派", "assigned"), "pick_up": ("取件", "picked up"),
          "complete": ("确认送达", "delivered"), "fail": ("记录失败", "marked failed"), "retry": ("重新配送", "retried"),
          "cancel": ("取消", "cancelled"), "escalate": ("上报", "escalated")}


@dataclass
class Request:
    status: str | None = None
    request_id: str = ""
    household_id: str = ""
    building: str = ""
    category: str = ""
    source: str = ""
    urgency: str = "normal"
    vulnerable: tuple[str, ...] = ()
    requested_at: datetime | None = None
    assignee_id: str | None = None
    assignee_kind: str | None = None
    attempt: int = 1
    retry_allowed: bool = True
    escalated_to: str | None = None


def request_id_of(cmd: c.RequestDelivery) -> str:
    """The id of the request a command creates: its own, or one derived from the command id."""
    return cmd.request_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"louzu:delivery:{cmd.command_id}"))


def apply(r: Request, event: Event) -> Request:
    match event:
        case e.DeliveryRequested():
            r.status, r.request_id = "requested", event.request_id
            r.household_id, r.building = event.household_id, event.building
            r.category, r.source, r.urgency = event.category, event.source, event.urgency
            r.vulnerable, r.requested_at = event.vulnerable, event.requested_at
        case e.DeliveryAccepted():
            r.status = "accepted"
        case e.DeliveryAssigned():
            r.status, r.assignee_id, r.assignee_kind = "assigned", event.assignee_id, event.assignee_kind
        case e.DeliveryPickedUp():
            r.status = "picked_up"
        case e.DeliveryDelivered():
            r.status = "delivered"
        case e.DeliveryFailed():
            r.status, r.retry_allowed = "failed", event.retry_allowed
        case e.DeliveryRetried():
            r.status, r.assignee_id, r.assignee_kind, r.attempt = "accepted", None, None, event.attempt
        case e.DeliveryCancelled():
            r.status = "cancelled"
        case e.DeliveryEscalated():
            r.escalated_to = event.to_cadre_id
    return r


def _error(code: str, zh: str, en: str, field_name: str | None = None) -> DomainError:
    return DomainError(code, zh, en, field_name)


def _require(r: Request, action: str, *allowed: str) -> None:
    if r.status is None:
        raise _error("request_unknown", "没有这条配送需求", "no such delivery request", "request_id")
    if r.status not in allowed:
        zh, en = ACTION[action]
        raise _error("illegal_transition", f"该需求当前状态为「{STATUS_ZH[r.status]}」，不能{zh}",
                     f"the request is {r.status.replace('_', ' ')}; it cannot be {en}", "request_id")


def request(r: Request, cmd: c.RequestDelivery, vulnerable: tuple[str, ...], now: datetime) -> list[Event]:
    """`vulnerable` holds the household's flags from the roster at this moment."""
    if r.status is not None:
        return []
    if not cmd.items.strip():
        raise _error("items_required", "请写明需要的物品", "say what is needed", "items")
    flags = tuple(f for f in e.FLAGS if f in set(vulnerable))
    return [e.DeliveryRequested(
        request_id=request_id_of(cmd), household_id=cmd.household_id, building=cmd.building,
        resident_id=cmd.resident_id, requested_by=cmd.actor, on_behalf=cmd.on_behalf, items=cmd.items.strip(),
        category=cmd.category, source=cmd.source, urgency=cmd.urgency, vulnerable=flags, requested_at=now,
        standing=standing(cmd, flags, now))]


def standing(cmd: c.RequestDelivery, flags: tuple[str, ...], now: datetime) -> e.QueueStanding:
    """The part of the request's priority that does not change while it waits, carried in the event
    so that readers of the queue need not know the rule (the last reason, the time waited, they add)."""
    rank = priority({"category": cmd.category, "urgency": cmd.urgency, "vulnerable": flags, "requested_at": now,
                     "request_id": ""}, now, timedelta.max)
    reasons = rank.reasons[:-1]
    return e.QueueStanding(tier=rank.rank[0], reasons_zh=tuple(zh for zh, _ in reasons),
                           reasons_en=tuple(en for _, en in reasons))


def accept(r: Request, cmd: c.AcceptDelivery, now: datetime) -> list[Event]:
    if r.status == "accepted":
        return []
    _require(r, "accept", "requested")
    return [e.DeliveryAccepted(request_id=r.request_id, accepted_by=cmd.actor, accepted_at=now)]


def assign(r: Request, cmd: c.AssignDelivery, phase: str | None, now: datetime) -> list[Event]:
    """A request may be reassigned until it is picked up; `phase` is the building's lockdown phase."""
    if r.status == "assigned" and (r.assignee_id, r.assignee_kind) == (cmd.assignee_id, cmd.assignee_kind):
        return []
    _require(r, "assign", "accepted", "assigned")
    if cmd.take and r.status == "assigned":
        raise _error("already_taken", f"这单已由 {r.assignee_id} 接走，请选择其他订单",
                     f"this request was already taken by {r.assignee_id}; pick another one", "request_id")
    if phase == "sealed" and cmd.assignee_kind != "gate_post_pair":
        raise _error("seal_gate_post_only", f"{r.building} 号楼处于封控期，只能由党员先锋门岗送到门口",
                     f"building {r.building} is sealed: only the gate-post pair may carry to the door", "assignee_kind")
    return [e.DeliveryAssigned(request_id=r.request_id, assignee_id=cmd.assignee_id, assignee_kind=cmd.assignee_kind,
                               assigned_by=cmd.actor, assigned_at=now)]


def pick_up(r: Request, cmd: c.PickUpDelivery, now: datetime) -> list[Event]:
    if r.status == "picked_up":
        return []
    _require(r, "pick_up", "assigned")
    if r.source == "relatives_at_gate" and not cmd.received_at_gate:
        raise _error("gate_receipt_required", "亲友送来的物品须先在门岗登记接收",
                     "items left by relatives must be logged at the gate post first", "received_at_gate")
    return [e.DeliveryPickedUp(request_id=r.request_id, picked_up_by=cmd.actor, received_at_gate=cmd.received_at_gate,
                               note=cmd.note, picked_up_at=now)]


def complete(r: Request, cmd: c.CompleteDelivery, now: datetime) -> list[Event]:
    if r.status == "delivered":
        return []
    _require(r, "complete", "picked_up")
    return [e.DeliveryDelivered(request_id=r.request_id, delivered_by=cmd.actor,
                                confirmed_by_resident=cmd.confirmed_by_resident, note=cmd.note, delivered_at=now)]


def fail(r: Request, cmd: c.FailDelivery, now: datetime) -> list[Event]:
    if r.status == "failed":
        return []
    _require(r, "fail", "assigned", "picked_up")
    if cmd.reason == "other" and not cmd.note.strip():
        raise _error("note_required", "原因为「其他」时请写明情况", "say what happened when the reason is 'other'", "note")
    return [e.DeliveryFailed(request_id=r.request_id, reason=cmd.reason, note=cmd.note, retry_allowed=cmd.retry_allowed,
                             failed_by=cmd.actor, failed_at=now)]


def retry(r: Request, cmd: c.RetryDelivery, now: datetime) -> list[Event]:
    if r.status == "accepted" and r.attempt > 1:
        return []
    _require(r, "retry", "failed")
    if not r.retry_allowed:
        raise _error("retry_not_allowed", "该次失败已标明不宜重试，请取消或新建需求",
                     "this failure was marked as not worth retrying; cancel it or make a new request", "request_id")
    return [e.DeliveryRetried(request_id=r.request_id, attempt=r.attempt + 1, retried_by=cmd.actor, retried_at=now)]


def cancel(r: Request, cmd: c.CancelDelivery, now: datetime) -> list[Event]:
    if r.status == "cancelled":
        return []
    _require(r, "cancel", *(s for s in STATUS_ZH if s and s not in FINAL))
    return [e.DeliveryCancelled(request_id=r.request_id, reason=cmd.reason, cancelled_by=cmd.actor, cancelled_at=now)]


def escalate(r: Request, cmd: c.EscalateDelivery, now: datetime) -> list[Event]:
    if r.escalated_to == cmd.to_cadre_id and r.status not in FINAL:
        return []
    _require(r, "escalate", *(s for s in STATUS_ZH if s and s not in FINAL))
    age = max(0, int((now - r.requested_at).total_seconds() // 60))
    return [e.DeliveryEscalated(request_id=r.request_id, to_cadre_id=cmd.to_cadre_id, age_minutes=age,
                                escalated_by=cmd.actor, escalated_at=now)]
