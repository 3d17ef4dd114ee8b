"""Registry aggregates as plain state folded from events, and decide functions that return new
events or raise a DomainError. No I/O here."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from shared.commands import registry as c
from shared.errors import DomainError
from shared.events import registry as e
from shared.eventlog.envelope import Event
from shared.eventlog.subjects import slug  # noqa: F401  (re-exported for the registry's callers)


@dataclass
class State:
    """What the rules need to know about one aggregate."""

    exists: bool = False
    household_id: str = ""
    moved_out: bool = False
    erased: bool = False
    cadre_id: str = ""
    details: dict = field(default_factory=dict)


def apply(state: State, event: Event) -> State:
    match event:
        case e.CompoundRegistered() | e.BuildingRegistered() | e.HouseholdRegistered():
            state.exists = True
        case e.BuildingCadreAssigned():
            state.cadre_id = event.cadre_id
        case e.ResidentRegistered():
            state.exists, state.household_id = True, event.household_id
            state.details = {"name": event.name, "relation": event.relation, "flags": event.flags,
                             "phone_mask": event.phone_mask}
        case e.ResidentUpdated():
            state.household_id = event.household_id or state.household_id
            for key in ("name", "relation", "flags", "phone_mask"):
                if getattr(event, key) is not None:
                    state.details[key] = getattr(event, key)
        case e.ResidentMovedOut():
            state.moved_out = True
        case e.ResidentErased():
            state.erased = True
    return state


def _missing(what_zh: str, what_en: str, ident: str, field_name: str) -> DomainError:
    return DomainError(f"{field_name}_unknown", f"{what_zh}「{ident}」不存在，请先登记",
                       f"{what_en} {ident!r} is not registered; register it first", field_name)


def register_compound(state: State, cmd: c.RegisterCompound, now: datetime) -> list[Event]:
    if state.exists:
        return []
    return [e.CompoundRegistered(compound=cmd.compound, name=cmd.display_name, town=cmd.town,
                                 registered_by=cmd.actor, registered_at=now)]


def register_building(compound: State, state: State, cmd: c.RegisterBuilding, now: datetime) -> list[Event]:
    if not compound.exists:
        raise _missing("小区", "compound", cmd.compound, "compound")
    if state.exists:
        return []
    return [e.BuildingRegistered(building=cmd.building, entrances=cmd.entrances, floors=cmd.floors,
                                 registered_by=cmd.actor, registered_at=now)]


def assign_cadre(building: State, cmd: c.AssignBuildingCadre, now: datetime) -> list[Event]:
    if not building.exists:
        raise _missing("楼栋", "building", cmd.building, "building")
    if building.cadre_id == cmd.cadre_id:
        return []
    return [e.BuildingCadreAssigned(building=cmd.building, cadre_id=cmd.cadre_id, cadre_name=cmd.cadre_name,
                                    assigned_by=cmd.actor, assigned_at=now)]


def floor_of(room: str) -> int:
    """Shanghai rooms are numbered floor + door: 302 is floor 3, 1502 floor 15."""
    digits = re.sub(r"\D", "", room)
    return int(digits[:-2]) if len(digits) >= 3 else 1


def household_id(building: str, entrance: str, room: str) -> str:
    raw = f"{building}-{entrance or '1'}-{room}".lower()
    return re.sub(r"[^a-z0-9_-]", "_", raw)


def register_household(building: State, state: State, cmd: c.RegisterHousehold, now: datetime) -> list[Event]:
    if not building.exists:
        raise _missing("楼栋", "building", cmd.building, "building")
    if state.exists:
        return []
    return [e.HouseholdRegistered(household_id=household_id(cmd.building, cmd.entrance, cmd.room),
                                  building=cmd.building, entrance=cmd.entrance or "1", room=cmd.room,
                                  floor=floor_of(cmd.room), registered_by=cmd.actor, registered_at=now)]


def register_resident(household: State, state: State, cmd: c.RegisterResident, now: datetime) -> list[Event]:
    if not household.exists:
        raise _missing("户", "household", cmd.household_id, "household_id")
    if state.exists and not state.moved_out and not state.erased:
        if state.household_id == cmd.household_id:
            return []  # the same person in the same household: a re-import adds nothing
        raise DomainError("resident_exists", f"此人（同一身份证号）已登记在「{state.household_id}」",
                          f"this person (same ID number) is already registered in household {state.household_id}",
                          "id_number")
    if state.erased:
        raise DomainError("resident_erased", "此人的资料已被删除，不能再次登记为同一人",
                          "this person's data was erased; they cannot be registered again under the same record",
                          "resident_id")
    return [e.ResidentRegistered(
        resident_id=cmd.resident_id, household_id=cmd.household_id, name=cmd.full_name, sex=cmd.sex,
        birth_year=cmd.birth_year, id_hash=cmd.id_hash, id_number_sealed=cmd.id_number_sealed, id_mask=cmd.id_mask,
        phone_sealed=cmd.phone_sealed, phone_mask=cmd.phone_mask, relation=cmd.relation, flags=tuple(sorted(cmd.flags)),
        registered_by=cmd.actor, registered_at=now)]


def _living(state: State, resident_id: str) -> None:
    if not state.exists:
        raise _missing("居民", "resident", resident_id, "resident_id")
    if state.erased:
        raise DomainError("resident_erased", "此人的资料已被删除", "this person's data was erased", "resident_id")
    if state.moved_out:
        raise DomainError("resident_moved_out", "此人已迁出", "this resident has moved out", "resident_id")


def update_resident(state: State, household: State | None, cmd: c.UpdateResident, now: datetime) -> list[Event]:
    _living(state, cmd.resident_id)
    if household is not None and not household.exists:
        raise _missing("户", "household", cmd.household_id or "", "household_id")
    changes = {k: v for k, v in {
        "household_id": cmd.household_id if cmd.household_id != state.household_id else None,
        "name": cmd.full_name if cmd.full_name != state.details.get("name") else None,
        "relation": cmd.relation if cmd.relation != state.details.get("relation") else None,
        "flags": tuple(sorted(cmd.flags)) if cmd.flags is not None and tuple(sorted(cmd.flags)) != state.details.get("flags") else None,
        "phone_sealed": cmd.phone_sealed if cmd.phone_mask is not None and cmd.phone_mask != state.details.get("phone_mask") else None,
        "phone_mask": cmd.phone_mask if cmd.phone_mask != state.details.get("phone_mask") else None,
    }.items() if v is not None}
    if not changes:
        return []
    return [e.ResidentUpdated(resident_id=cmd.resident_id, updated_by=cmd.actor, updated_at=now, **changes)]


def move_out(state: State, cmd: c.MoveOutResident, now: datetime) -> list[Event]:
    _living(state, cmd.resident_id)
    return [e.ResidentMovedOut(resident_id=cmd.resident_id, reason=cmd.reason, moved_out_by=cmd.actor, moved_out_at=now)]


def verify(state: State, cmd: c.VerifyResident, now: datetime) -> list[Event]:
    _living(state, cmd.resident_id)
    return [e.ResidentVerified(resident_id=cmd.resident_id, verified_by=cmd.actor, verified_at=now, note=cmd.note)]


def erase(state: State, cmd: c.EraseResident, now: datetime) -> list[Event]:
    if not state.exists:
        raise _missing("居民", "resident", cmd.resident_id, "resident_id")
    if state.erased:
        return []
    return [e.ResidentErased(resident_id=cmd.resident_id, erased_by=cmd.actor, erased_at=now, reason=cmd.reason)]

