"""One async function per registry command: load the aggregates, decide, append, reply."""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from shared.commands import registry as c
from shared.errors import DomainError
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import ConcurrencyConflict, EventStore
from shared.eventlog.subjects import AggregateSubject
from services.registry.domain import model
from services.registry.domain.model import State

SERVICE = "registry"


@dataclass(frozen=True)
class CommandResult:
    event_ids: tuple[str, ...]
    last_seq: int | None
    duplicate: bool = False

    def as_dict(self) -> dict:
        return {"ok": True, "event_ids": list(self.event_ids), "last_seq": self.last_seq, "duplicate": self.duplicate}


def subject(cmd: c.Command, aggregate: str, ident: str) -> AggregateSubject:
    return AggregateSubject.make(cmd.tenant, cmd.compound, SERVICE, aggregate, model.slug(ident))


class Aggregates:
    """A bounded cache of aggregate states; a stale entry only costs a conflict and a reload."""

    def __init__(self, store: EventStore, capacity: int = 200_000) -> None:
        self.store, self.capacity = store, capacity
        self._cache: OrderedDict[str, tuple[State, int]] = OrderedDict()

    async def load(self, where: AggregateSubject) -> tuple[State, int]:
        key = str(where)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        state, seq = State(), 0
        for recorded in await self.store.read_aggregate(where):
            model.apply(state, recorded.event)
            state.command_ids.add(recorded.command_id)
            seq = recorded.seq
        self._remember(key, state, seq)
        return state, seq

    def _remember(self, key: str, state: State, seq: int) -> None:
        self._cache[key] = (state, seq)
        if len(self._cache) > self.capacity:
            self._cache.popitem(last=False)

    def advance(self, where: AggregateSubject, state: State, events, seq: int, command_id: str) -> None:
        for event in events:
            model.apply(state, event)
        state.command_ids.add(command_id)
        self._remember(str(where), state, seq)

    def forget(self, where: AggregateSubject) -> None:
        self._cache.pop(str(where), None)


class RegistryService:
    """Command handlers of the registry; `clock` is injected so tests control time."""

    def __init__(self, store: EventStore, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.store, self.clock, self.aggregates = store, clock, Aggregates(store)
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    async def execute(self, cmd: c.Command) -> CommandResult:
        for _attempt in range(5):
            target, decide = await self._plan(cmd)
            async with self._turn(target):
                outcome = await self._decide_and_append(cmd, target, decide)
            if outcome is not None:
                return outcome
        raise DomainError("busy", "该记录正被频繁修改，请稍后重试", "this record is being changed by others; retry shortly")

    @asynccontextmanager
    async def _turn(self, target: AggregateSubject):
        """Commands on one aggregate take turns inside this process; across processes the log's
        optimistic concurrency decides."""
        key = str(target)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]

    async def _decide_and_append(self, cmd: c.Command, target: AggregateSubject, decide) -> CommandResult | None:
        """None means the aggregate moved under us: plan and decide again."""
        state, seq = await self.aggregates.load(target)
        if cmd.command_id in state.command_ids:
            return CommandResult((), seq, duplicate=True)
        events = decide(state)
        if not events:
            return CommandResult((), seq)
        meta = Metadata(cmd.command_id, cmd.correlation_id, None, f"/louzu/{SERVICE}/{cmd.actor}")
        try:
            result = await self.store.append(target, events, expected=seq, meta=meta)
        except ConcurrencyConflict:
            self.aggregates.forget(target)
            return None
        if result.duplicate:
            self.aggregates.forget(target)
        else:
            self.aggregates.advance(target, state, events, result.last_seq, cmd.command_id)
        return CommandResult(result.event_ids, result.last_seq, result.duplicate)

    async def _plan(self, cmd: c.Command):
        """Which aggregate the command writes, and the rule deciding its events from that aggregate's state."""
        now = self.clock()
        match cmd:
            case c.RegisterCompound():
                return subject(cmd, "compound", cmd.compound), lambda s: model.register_compound(s, cmd, now)
            case c.RegisterBuilding():
                compound, _ = await self.aggregates.load(subject(cmd, "compound", cmd.compound))
                return subject(cmd, "building", cmd.building), lambda s: model.register_building(compound, s, cmd, now)
            case c.AssignBuildingCadre():
                return subject(cmd, "building", cmd.building), lambda s: model.assign_cadre(s, cmd, now)
            case c.RegisterHousehold():
                building, _ = await self.aggregates.load(subject(cmd, "building", cmd.building))
                ident = model.household_id(cmd.building, cmd.entrance, cmd.room)
                return subject(cmd, "household", ident), lambda s: model.register_household(building, s, cmd, now)
            case c.RegisterResident():
                household, _ = await self.aggregates.load(subject(cmd, "household", cmd.household_id))
                return (subject(cmd, "resident", cmd.resident_id),
                        lambda s: model.register_resident(household, s, cmd, now))
            case c.UpdateResident():
                household = None
                if cmd.household_id:
                    household, _ = await self.aggregates.load(subject(cmd, "household", cmd.household_id))
                return subject(cmd, "resident", cmd.resident_id), lambda s: model.update_resident(s, household, cmd, now)
            case c.MoveOutResident():
                return subject(cmd, "resident", cmd.resident_id), lambda s: model.move_out(s, cmd, now)
            case c.VerifyResident():
                return subject(cmd, "resident", cmd.resident_id), lambda s: model.verify(s, cmd, now)
            case c.EraseResident():
                return subject(cmd, "resident", cmd.resident_id), lambda s: model.erase(s, cmd, now)
        raise DomainError("unknown_command", "无法识别的指令", f"unknown command {cmd.name}")
