"""Commands the registry service accepts over NATS request–reply (`louzu.cmd.<tenant>.registry.<name>`)."""
from __future__ import annotations

from pydantic import Field

from shared.commands.base import Command


class RegisterCompound(Command):
    name: str = "register_compound"
    display_name: str
    town: str


class RegisterBuilding(Command):
    name: str = "register_building"
    building: str
    entrances: int = Field(ge=1, le=50)
    floors: int = Field(ge=1, le=120)


class AssignBuildingCadre(Command):
    name: str = "assign_building_cadre"
    building: str
    cadre_id: str
    cadre_name: str


class RegisterHousehold(Command):
    name: str = "register_household"
    building: str
    entrance: str
    room: str


class RegisterResident(Command):
    """Personal fields arrive already sealed: the edge that saw the clear value encrypted it."""

    name: str = "register_resident"
    resident_id: str
    household_id: str
    full_name: str = Field(min_length=1, max_length=64)
    sex: str = Field(pattern="^[MF]$")
    birth_year: int = Field(ge=1880, le=2100)
    id_hash: str
    id_number_sealed: str
    id_mask: str
    phone_sealed: str = ""
    phone_mask: str = ""
    relation: str = ""
    flags: tuple[str, ...] = ()


class UpdateResident(Command):
    name: str = "update_resident"
    resident_id: str
    household_id: str | None = None
    full_name: str | None = None
    phone_sealed: str | None = None
    phone_mask: str | None = None
    relation: str | None = None
    flags: tuple[str, ...] | None = None


class MoveOutResident(Command):
    name: str = "move_out_resident"
    resident_id: str
    reason: str = Field(min_length=1)


class VerifyResident(Command):
    name: str = "verify_resident"
    resident_id: str
    note: str = ""


class EraseResident(Command):
    name: str = "erase_resident"
    resident_id: str
    reason: str = Field(min_length=1)


COMMANDS: dict[str, type[Command]] = {c.model_fields["name"].default: c for c in (
    RegisterCompound, RegisterBuilding, AssignBuildingCadre, RegisterHousehold, RegisterResident,
    UpdateResident, MoveOutResident, VerifyResident, EraseResident)}
