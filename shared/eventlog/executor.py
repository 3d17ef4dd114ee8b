"""Running a command against one aggregate: load (cached), decide, append with the aggregate's
last sequence as expectation, and on conflict load again and decide again. Services supply
the fold (`apply`) and the rules (`decide`); this module is plumbing shared by all of them."""
from __future__ import annotations

import asyncio
import copy
from collections import OrderedDict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Callable, Generic, Sequence, TypeVar

from shared.commands.base import Command
from shared.errors import DomainError
from shared.eventlog.envelope import Event, Metadata
from shared.eventlog.store import ConcurrencyConflict, EventStore
from shared.eventlog.subjects import AggregateSubject

S = TypeVar("S")


@dataclass(frozen=True)
class CommandResult:
    event_ids: tuple[str, ...]
    last_seq: int | None
    duplicate: bool = False
    events: tuple[Event, ...] = ()

    def as_dict(self) -> dict:
        return {"ok": True, "event_ids": list(self.event_ids), "last_seq": self.last_seq, "duplicate": self.duplicate}


@dataclass
class Loaded(Generic[S]):
    state: S
    seq: int = 0
    command_ids: dict[str, tuple[str, ...]] = field(default_factory=dict)  # command id → its event ids


class Executor(Generic[S]):
    """One per service instance. Commands on one aggregate take turns inside the instance; across
    instances the log's optimistic concurrency decides."""

    def __init__(self, store: EventStore, service: str, new_state: Callable[[], S],
                 apply: Callable[[S, Event], S], capacity: int = 200_000) -> None:
        self.store, self.service, self.new_state, self.apply, self.capacity = store, service, new_state, apply, capacity
        self._cache: OrderedDict[str, Loaded[S]] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    async def load(self, where: AggregateSubject) -> Loaded[S]:
        key = str(where)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        loaded = Loaded(self.new_state())
        for recorded in await self.store.read_aggregate(where):
            loaded.state = self.apply(loaded.state, recorded.event)
            loaded.command_ids[recorded.command_id] = loaded.command_ids.get(recorded.command_id, ()) + (recorded.id,)
            loaded.seq = recorded.seq
        self._remember(key, loaded)
        return loaded

    def _remember(self, key: str, loaded: Loaded[S]) -> None:
        self._cache[key] = loaded
        self._cache.move_to_end(key)
        if len(self._cache) > self.capacity:
            self._cache.popitem(last=False)

    def forget(self, where: AggregateSubject) -> None:
        self._cache.pop(str(where), None)

    async def execute(self, cmd: Command, target: AggregateSubject,
                      decide: Callable[[S], Sequence[Event]]) -> CommandResult:
        for _attempt in range(5):
            async with self._turn(target):
                outcome = await self._once(cmd, target, decide)
            if outcome is not None:
                return outcome
        raise DomainError("busy", "该记录正被频繁修改，请稍后重试", "this record is being changed by others; retry shortly")

    async def _once(self, cmd: Command, target: AggregateSubject, decide) -> CommandResult | None:
        """None means the aggregate moved under us: load and decide again."""
        cached = str(target) in self._cache
        loaded = await self.load(target)
        if cmd.command_id in loaded.command_ids:  # a retry: the same answer as the first time, nothing appended
            return CommandResult(loaded.command_ids[cmd.command_id], loaded.seq, duplicate=True)
        try:
            events = list(decide(loaded.state))
        except DomainError:
            if cached and await self._moved(target, loaded):
                return None
            raise
        if not events:
            if cached and await self._moved(target, loaded):
                return None
            return CommandResult((), loaded.seq)
        meta = Metadata(cmd.command_id, cmd.correlation_id, None, f"/louzu/{self.service}/{cmd.actor}")
        try:
            result = await self.store.append(target, events, expected=loaded.seq, meta=meta)
        except ConcurrencyConflict:
            self.forget(target)
            return None
        if result.duplicate:
            self.forget(target)
        else:
            state = copy.deepcopy(loaded.state)
            for event in events:
                state = self.apply(state, event)
            self._remember(str(target), Loaded(state, result.last_seq,
                                               {**loaded.command_ids, cmd.command_id: tuple(result.event_ids)}))
        return CommandResult(result.event_ids, result.last_seq, result.duplicate, tuple(events))

    async def _moved(self, target: AggregateSubject, loaded: Loaded[S]) -> bool:
        """Whether another instance appended since this one cached the aggregate. A refusal or a
        decision to append nothing is checked by no expected sequence, so it is taken on the log's
        state, not on a cache another instance may have outdated (one read, only on that path)."""
        if await self.store.read_aggregate(target, after=loaded.seq):
            self.forget(target)
            return True
        return False

    @asynccontextmanager
    async def _turn(self, target: AggregateSubject):
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
