"""One rule per delivery command. The household's vulnerability flags and the building's lockdown
phase are read from the delivery read model (fed by the registry's and the lockdown service's
events), so the service never calls another service."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Awaitable, Callable

from shared.commands import delivery as c
from shared.errors import DomainError
from shared.eventlog.executor import CommandResult, Executor
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject, slug
from services.delivery.domain import model, purchase
from services.delivery.domain.model import Request
from services.delivery.domain.purchase import Purchase

SERVICE = "delivery"
Lookup = Callable[[str, str, str], Awaitable]


def request_subject(cmd: c.Command, request_id: str) -> AggregateSubject:
    return AggregateSubject.make(cmd.tenant, cmd.compound, SERVICE, "request", slug(request_id))


def purchase_subject(cmd: c.Command, purchase_id: str) -> AggregateSubject:
    return AggregateSubject.make(cmd.tenant, cmd.compound, SERVICE, "purchase", slug(purchase_id))


async def _none(*_args):
    return None


class DeliveryService:
    """`flags(tenant, compound, household)` → the household's vulnerability flags;
    `phase(tenant, compound, building)` → the building's lockdown phase or None."""

    def __init__(self, store: EventStore, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 flags: Lookup = _none, phase: Lookup = _none) -> None:
        self.clock, self.flags, self.phase = clock, flags, phase
        self.requests: Executor[Request] = Executor(store, SERVICE, Request, model.apply)
        self.purchases: Executor[Purchase] = Executor(store, SERVICE, Purchase, purchase.apply)

    async def execute(self, cmd: c.Command) -> CommandResult:
        now = self.clock()
        match cmd:
            case c.RequestDelivery():
                vulnerable = tuple(await self.flags(cmd.tenant, cmd.compound, cmd.household_id) or ())
                return await self.requests.execute(cmd, request_subject(cmd, model.request_id_of(cmd)),
                                                   lambda r: model.request(r, cmd, vulnerable, now))
            case c.AssignDelivery():
                state = (await self.requests.load(request_subject(cmd, cmd.request_id))).state
                phase = await self.phase(cmd.tenant, cmd.compound, state.building) if state.building else None
                return await self.requests.execute(cmd, request_subject(cmd, cmd.request_id),
                                                   lambda r: model.assign(r, cmd, phase, now))
            case c.OpenGroupPurchase():
                return await self.purchases.execute(cmd, purchase_subject(cmd, purchase.purchase_id_of(cmd)),
                                                    lambda p: purchase.open_purchase(p, cmd, now))
        request_rules = {c.AcceptDelivery: model.accept, c.PickUpDelivery: model.pick_up,
                         c.CompleteDelivery: model.complete, c.FailDelivery: model.fail, c.RetryDelivery: model.retry,
                         c.CancelDelivery: model.cancel, c.EscalateDelivery: model.escalate}
        purchase_rules = {c.OrderGroupPurchase: purchase.order, c.CancelGroupPurchaseOrder: purchase.cancel_order,
                          c.CloseGroupPurchase: purchase.close, c.RecordGroupPurchaseArrival: purchase.arrival}
        if type(cmd) in request_rules:
            rule = request_rules[type(cmd)]
            return await self.requests.execute(cmd, request_subject(cmd, cmd.request_id), lambda r: rule(r, cmd, now))
        if type(cmd) in purchase_rules:
            rule = purchase_rules[type(cmd)]
            result = await self.purchases.execute(cmd, purchase_subject(cmd, cmd.purchase_id),
                                                  lambda p: rule(p, cmd, now))
            if isinstance(cmd, c.RecordGroupPurchaseArrival):
                await self._fan_out(cmd)
            return result
        raise DomainError("unknown_command", "无法识别的指令", f"unknown command {cmd.name}")

    async def _fan_out(self, cmd: c.RecordGroupPurchaseArrival) -> None:
        """The supplier's one delivery becomes one door-to-door delivery per ordering household. Each
        request's command id comes from the purchase and the household, so sending the arrival again
        (after a crash half-way, say) completes the fan-out and doubles nothing."""
        state = (await self.purchases.load(purchase_subject(cmd, cmd.purchase_id))).state
        if state.status != "arrived":
            return
        for household, order in sorted(state.orders.items()):
            request = c.RequestDelivery(
                command_id=f"fanout:{cmd.purchase_id}:{household}", tenant=cmd.tenant, compound=cmd.compound,
                actor=cmd.actor, correlation_id=cmd.command_id, household_id=household, building=order.building,
                items=f"团购 {cmd.purchase_id} × {order.quantity}", category="food", source="group_purchase")
            await self.execute(request)
