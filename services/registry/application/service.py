"""One rule per registry command: which aggregate it writes, what else it must read, and the
decide function. Loading, appending and retrying are the shared executor's."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from shared.commands import registry as c
from shared.errors import DomainError
from shared.eventlog.executor import CommandResult, Executor
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject
from services.registry.domain import model
from services.registry.domain.model import State

SERVICE = "registry"
__all__ = ["CommandResult", "RegistryService"]


def subject(cmd: c.Command, aggregate: str, ident: str) -> AggregateSubject:
    return AggregateSubject.make(cmd.tenant, cmd.compound, SERVICE, aggregate, model.slug(ident))


class RegistryService:
    """Command handlers of the registry; `clock` is injected so tests control time."""

    def __init__(self, store: EventStore, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.clock = clock
        self.executor: Executor[State] = Executor(store, SERVICE, State, model.apply)

    async def execute(self, cmd: c.Command) -> CommandResult:
        target, decide = await self._plan(cmd)
        return await self.executor.execute(cmd, target, decide)

    async def _state(self, where: AggregateSubject) -> State:
        return (await self.executor.load(where)).state

    async def _plan(self, cmd: c.Command):
        """Which aggregate the command writes, and the rule deciding its events from that aggregate's state."""
        now = self.clock()
        match cmd:
            case c.RegisterCompound():
                return subject(cmd, "compound", cmd.compound), lambda s: model.register_compound(s, cmd, now)
            case c.RegisterBuilding():
                compound = await self._state(subject(cmd, "compound", cmd.compound))
                return subject(cmd, "building", cmd.building), lambda s: model.register_building(compound, s, cmd, now)
            case c.AssignBuildingCadre():
                return subject(cmd, "building", cmd.building), lambda s: model.assign_cadre(s, cmd, now)
            case c.RegisterHousehold():
                building = await self._state(subject(cmd, "building", cmd.building))
                ident = model.household_id(cmd.building, cmd.entrance, cmd.room)
                return subject(cmd, "household", ident), lambda s: model.register_household(building, s, cmd, now)
            case c.RegisterResident():
                household = await self._state(subject(cmd, "household", cmd.household_id))
                return (subject(cmd, "resident", cmd.resident_id),
                        lambda s: model.register_resident(household, s, cmd, now))
            case c.UpdateResident():
                household = None
                if cmd.household_id:
                    household = await self._state(subject(cmd, "household", cmd.household_id))
                return subject(cmd, "resident", cmd.resident_id), lambda s: model.update_resident(s, household, cmd, now)
            case c.MoveOutResident():
                return subject(cmd, "resident", cmd.resident_id), lambda s: model.move_out(s, cmd, now)
            case c.VerifyResident():
                return subject(cmd, "resident", cmd.resident_id), lambda s: model.verify(s, cmd, now)
            case c.EraseResident():
                return subject(cmd, "resident", cmd.resident_id), lambda s: model.erase(s, cmd, now)
        raise DomainError("unknown_command", "无法识别的指令", f"unknown command {cmd.name}")
