"""Events of the delivery service: food and medicine carried to the doors of a sealed building
(the gate post delivers during the seal), and group purchases (团购) a building or compound orders together.

A request lives under the aggregate `request`, a group purchase under `purchase`. Money is in fen
(分, integer), never a float.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.eventlog.envelope import Event, register

Category = Literal["medicine", "food", "daily_goods", "medical_supplies"]
Source = Literal["relatives_at_gate", "shop", "committee_stock", "group_purchase"]
Urgency = Literal["urgent", "normal"]
Flag = Literal["elderly_alone", "chronic_illness", "pregnant", "infant", "disability"]
AssigneeKind = Literal["gate_post_pair", "volunteer"]
FailReason = Literal["no_answer", "item_unavailable", "other"]
Scope = Literal["building", "compound"]
FLAGS: tuple[str, ...] = ("elderly_alone", "chronic_illness", "pregnant", "infant", "disability")


class QueueStanding(BaseModel):
    """Where a request stands in the supply queue, as the delivery service ranks it when it is made."""

    model_config = ConfigDict(frozen=True)
    tier: int = Field(ge=0, le=2, description="0 urgent medicine or medical supplies, 1 a vulnerable household, "
                                              "2 everyone else; within a tier whoever has waited longest goes first")
    reasons_zh: tuple[str, ...] = Field(default=(), description="why, in Chinese, e.g. 紧急药品, 独居老人")
    reasons_en: tuple[str, ...] = Field(default=(), description="why, in English, e.g. urgent medicine")


class DeliveryEvent(Event):
    service = "delivery"


@register
class DeliveryRequested(DeliveryEvent):
    """A household asked for supplies to be brought to its door (a resident, or a cadre for them)."""

    aggregate = "request"
    request_id: str = Field(description="request id")
    household_id: str = Field(description="household the supplies go to, e.g. 41-1-302")
    building: str = Field(description="building number")
    resident_id: str | None = Field(default=None, description="resident who needs it, if one in particular")
    requested_by: str = Field(description="the resident, or the cadre who asked for them")
    on_behalf: bool = Field(default=False, description="a cadre asked on the household's behalf (e.g. by phone)")
    items: str = Field(description="what is needed, in the household's words")
    category: Category = Field(description="medicine, food, daily goods or medical supplies")
    source: Source = Field(description="where it comes from: relatives leave it at the gate, a shop, "
                                       "the committee's stock, a group purchase")
    urgency: Urgency = Field(description="urgent or normal, as the household or cadre judged it")
    vulnerable: tuple[Flag, ...] = Field(default=(), description="the household's vulnerability flags when it "
                                                                 "asked, copied from the roster")
    requested_at: datetime = Field(description="when it entered the queue")
    standing: QueueStanding | None = Field(default=None, description="its tier and reasons in the queue, set by the "
                                                                     "delivery service; none on older requests")


@register
class DeliveryAccepted(DeliveryEvent):
    """A cadre accepted a request into the delivery queue."""

    aggregate = "request"
    request_id: str = Field(description="request id")
    accepted_by: str = Field(description="user id of the cadre")
    accepted_at: datetime = Field(description="when")


@register
class DeliveryAssigned(DeliveryEvent):
    """A request was given to a gate-post pair or a volunteer to carry (again, if reassigned)."""

    aggregate = "request"
    request_id: str = Field(description="request id")
    assignee_id: str = Field(description="the gate-post pair's or the volunteer's id")
    assignee_kind: AssigneeKind = Field(description="gate_post_pair (only they go to the doors during the seal) "
                                                    "or volunteer")
    assigned_by: str = Field(description="user id of the cadre")
    assigned_at: datetime = Field(description="when")


@register
class DeliveryPickedUp(DeliveryEvent):
    """The carrier took the items: from the shop, the stock, or from relatives at the gate."""

    aggregate = "request"
    request_id: str = Field(description="request id")
    picked_up_by: str = Field(description="user id of the carrier")
    received_at_gate: bool = Field(default=False, description="items left by relatives were logged at the gate post")
    note: str = Field(default="", description="what was noted, e.g. who handed it over")
    picked_up_at: datetime = Field(description="when")


@register
class DeliveryDelivered(DeliveryEvent):
    """The items reached the household's door."""

    aggregate = "request"
    request_id: str = Field(description="request id")
    delivered_by: str = Field(description="user id of the carrier")
    confirmed_by_resident: bool = Field(default=False, description="the household confirmed receipt")
    note: str = Field(default="", description="what was noted, e.g. left at the door")
    delivered_at: datetime = Field(description="when")


@register
class DeliveryFailed(DeliveryEvent):
    """A delivery could not be made; the request waits for a retry or a cancellation."""

    aggregate = "request"
    request_id: str = Field(description="request id")
    reason: FailReason = Field(description="no answer at the door, item unavailable, or other")
    note: str = Field(default="", description="what happened")
    retry_allowed: bool = Field(default=True, description="whether another attempt makes sense")
    failed_by: str = Field(description="user id")
    failed_at: datetime = Field(description="when")


@register
class DeliveryRetried(DeliveryEvent):
    """A failed request went back to the queue, unassigned, for another attempt."""

    aggregate = "request"
    request_id: str = Field(description="request id")
    attempt: int = Field(ge=2, description="number of the attempt now starting")
    retried_by: str = Field(description="user id")
    retried_at: datetime = Field(description="when")


@register
class DeliveryCancelled(DeliveryEvent):
    """A request was withdrawn and will not be delivered."""

    aggregate = "request"
    request_id: str = Field(description="request id")
    reason: str = Field(description="why, e.g. no longer needed")
    cancelled_by: str = Field(description="the resident or the cadre")
    cancelled_at: datetime = Field(description="when")


@register
class DeliveryEscalated(DeliveryEvent):
    """A request waited too long and was raised to a responsible cadre."""

    aggregate = "request"
    request_id: str = Field(description="request id")
    to_cadre_id: str = Field(description="cadre who must now see to it")
    age_minutes: int = Field(ge=0, description="minutes the request had been waiting")
    escalated_by: str = Field(description="user id, or 'schedule'")
    escalated_at: datetime = Field(description="when")


# --- group purchases (团购) ---


@register
class GroupPurchaseOpened(DeliveryEvent):
    """A group purchase was opened for orders from one building or the whole compound."""

    aggregate = "purchase"
    purchase_id: str = Field(description="purchase id")
    scope: Scope = Field(description="one building or the whole compound")
    building: str | None = Field(default=None, description="the building, when the scope is a building")
    supplier: str = Field(description="who supplies it")
    offer: str = Field(description="what is offered, e.g. 蔬菜包 5 kg")
    unit_price_fen: int = Field(gt=0, description="price of one unit in fen (分)")
    delivery_due: date = Field(description="day the supplier promised to deliver")
    opened_by: str = Field(description="user id")
    opened_at: datetime = Field(description="when")


@register
class GroupPurchaseOrdered(DeliveryEvent):
    """A household ordered a quantity; a later order by the same household replaces it."""

    aggregate = "purchase"
    purchase_id: str = Field(description="purchase id")
    household_id: str = Field(description="household")
    building: str = Field(description="building number")
    quantity: int = Field(ge=1, le=20, description="units ordered")
    ordered_by: str = Field(description="the resident or the cadre")
    ordered_at: datetime = Field(description="when")


@register
class GroupPurchaseOrderCancelled(DeliveryEvent):
    """A household withdrew its order while the purchase was open."""

    aggregate = "purchase"
    purchase_id: str = Field(description="purchase id")
    household_id: str = Field(description="household")
    cancelled_by: str = Field(description="the resident or the cadre")
    cancelled_at: datetime = Field(description="when")


@register
class GroupPurchaseClosed(DeliveryEvent):
    """Orders were closed and the totals sent to the supplier."""

    aggregate = "purchase"
    purchase_id: str = Field(description="purchase id")
    households: int = Field(ge=1, description="households with an order")
    quantity: int = Field(ge=1, description="units ordered in all")
    amount_fen: int = Field(ge=0, description="total in fen")
    closed_by: str = Field(description="user id")
    closed_at: datetime = Field(description="when")


@register
class GroupPurchaseArrived(DeliveryEvent):
    """The supplier's goods arrived at the compound, to be carried to the doors."""

    aggregate = "purchase"
    purchase_id: str = Field(description="purchase id")
    note: str = Field(default="", description="what was noted, e.g. 2 boxes short")
    received_by: str = Field(description="user id")
    arrived_at: datetime = Field(description="when")
