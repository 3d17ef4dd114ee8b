"""One rule per roster command. A gate post's default days come from the building's lockdown
episode and its shifts from the town policy, both read from the roster read model (fed by the
lockdown service's events), so the service never calls another service.

A dispatch touches up to three aggregates: the request, the asking compound's rota (the people
join its pool) and the lending compound's rota (they are away from it). Each follow-up command's id
is derived from the dispatch, so sending the dispatch again after a crash half-way completes it and
doubles nothing."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Awaitable, Callable

from shared.commands import roster as c
from shared.errors import DomainError
from shared.eventlog.executor import CommandResult, Executor
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject, slug
from shared.events.lockdown import DEFAULT_GATE_SHIFTS
from shared.localtime import SHANGHAI
from services.roster.domain import duty, reinforcement
from services.roster.domain.duty import Duty
from services.roster.domain.reinforcement import Reinforcement

SERVICE = "roster"
DEFAULT_POST_DAYS = 14

# (tenant, compound, building) → {"sealed_on": date, "last_day": date, "shifts": tuple} or None
PostDefaults = Callable[[str, str, str], Awaitable[dict | None]]


def shanghai_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def rota_subject(tenant: str, compound: str) -> AggregateSubject:
    return AggregateSubject.make(tenant, compound, SERVICE, "rota", slug(compound))


def request_subject(cmd: c.Command, request_id: str) -> AggregateSubject:
    return AggregateSubject.make(cmd.tenant, cmd.compound, SERVICE, "reinforcement", slug(request_id))


async def _no_defaults(*_args) -> dict | None:
    return None


class RosterService:
    def __init__(self, store: EventStore, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 post_defaults: PostDefaults = _no_defaults) -> None:
        self.clock, self.post_defaults = clock, post_defaults
        self.rotas: Executor[Duty] = Executor(store, SERVICE, Duty, duty.apply)
        self.requests: Executor[Reinforcement] = Executor(store, SERVICE, Reinforcement, reinforcement.apply)

    async def execute(self, cmd: c.Command) -> CommandResult:
        now = self.clock()
        today = shanghai_day(now)
        here = rota_subject(cmd.tenant, cmd.compound)
        match cmd:
            case c.OpenGatePost():
                post_id, start, end, shifts = await self._post_plan(cmd, today)
                return await self.rotas.execute(cmd, here, lambda d: duty.open_post(d, cmd, post_id, start, end,
                                                                                    shifts, now))
            case c.RequestReinforcement():
                target = request_subject(cmd, reinforcement.request_id_of(cmd))
                return await self.requests.execute(cmd, target, lambda r: reinforcement.request(r, cmd, today, now))
            case c.DispatchReinforcement():
                return await self._dispatch(cmd, now)
            case c.CloseReinforcement():
                return await self.requests.execute(cmd, request_subject(cmd, cmd.request_id),
                                                   lambda r: reinforcement.close(r, cmd, now))
            case c.WithdrawDutyPerson() | c.CloseGatePost() | c.PlanRota():
                rule = {c.WithdrawDutyPerson: duty.withdraw, c.CloseGatePost: duty.close_post, c.PlanRota: duty.plan}
                return await self.rotas.execute(cmd, here, lambda d: rule[type(cmd)](d, cmd, today, now))
        rules = {c.EnrollDutyPerson: duty.enroll, c.SetDutyAvailability: duty.set_availability,
                 c.SwapShift: duty.swap, c.CheckInShift: duty.check_in, c.CheckOutShift: duty.check_out,
                 c.SetStandby: duty.set_standby, c.LendDutyPerson: duty.lend}
        if type(cmd) in rules:
            rule = rules[type(cmd)]
            return await self.rotas.execute(cmd, here, lambda d: rule(d, cmd, now))
        raise DomainError("unknown_command", "无法识别的指令", f"unknown command {cmd.name}")

    async def _post_plan(self, cmd: c.OpenGatePost, today: date) -> tuple[str, date, date, tuple[str, ...]]:
        defaults = await self.post_defaults(cmd.tenant, cmd.compound, cmd.building) or {}
        start = cmd.start or defaults.get("sealed_on") or today
        end = cmd.end or defaults.get("last_day") or start + timedelta(days=DEFAULT_POST_DAYS - 1)
        shifts = tuple(cmd.shifts or defaults.get("shifts") or DEFAULT_GATE_SHIFTS)
        return cmd.post_id or f"b{slug(cmd.building)}", start, end, shifts

    async def _dispatch(self, cmd: c.DispatchReinforcement, now: datetime) -> CommandResult:
        target = request_subject(cmd, cmd.request_id)
        result = await self.requests.execute(cmd, target, lambda r: reinforcement.dispatch(r, cmd, now))
        state = (await self.requests.load(target)).state
        asked = state.requested
        for person in cmd.people:
            if person.person_id not in state.sent:
                continue
            enrol = c.EnrollDutyPerson(
                command_id=f"dispatch:{cmd.request_id}:{person.person_id}", tenant=cmd.tenant, compound=cmd.compound,
                actor=cmd.actor, correlation_id=cmd.command_id, person_id=person.person_id, person_name=person.name,
                role="reinforcement", home_compound=person.from_compound, available_from=asked.from_day,
                available_until=asked.until_day)
            await self.rotas.execute(enrol, rota_subject(cmd.tenant, cmd.compound),
                                     lambda d, p=person: duty.enroll_reinforcement(d, cmd.request_id, p, asked.from_day,
                                                                                   asked.until_day, cmd.actor, now))
            if person.from_tenant and (person.from_tenant, person.from_compound) != (cmd.tenant, cmd.compound):
                lend = c.LendDutyPerson(
                    command_id=f"lend:{cmd.request_id}:{person.person_id}", tenant=person.from_tenant,
                    compound=person.from_compound, actor=cmd.actor, correlation_id=cmd.command_id,
                    person_id=person.person_id, to_tenant=cmd.tenant, to_compound=cmd.compound,
                    request_id=cmd.request_id, from_day=asked.from_day, until_day=asked.until_day)
                await self.rotas.execute(lend, rota_subject(lend.tenant, lend.compound),
                                         lambda d, x=lend: duty.lend(d, x, now))
        return result
