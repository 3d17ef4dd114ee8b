"""Commands the registry service accepts over NATS request–reply (`louzu.cmd.<tenant>.registry.<name>`)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shared.commands.base import LABEL, Building, Command, Household, Ident, Name, Text, Town


class RegisterCompound(Command):
    name: str = "register_compound"
    display_name: Name(100) = Field(description="the compound's name, e.g. 樱花苑")
    town: Town


class RegisterBuilding(Command):
    name: str = "register_building"
    building: Building
    entrances: int = Field(ge=1, le=50)
    floors: int = Field(ge=1, le=120)


class AssignBuildingCadre(Command):
    name: str = "assign_building_cadre"
    building: Building
    cadre_id: Ident
    cadre_name: Name(50)


class RegisterHousehold(Command):
    name: str = "register_household"
    building: Building
    entrance: Annotated[str, Field(min_length=1, max_length=8, pattern=LABEL)]
    room: Annotated[str, Field(min_length=1, max_length=16, pattern=LABEL)]


class RegisterResident(Command):
    """Personal fields arrive already sealed: the edge that saw the clear value encrypted it."""

    name: str = "register_resident"
    resident_id: Ident
    household_id: Household
    full_name: Name(64)
    sex: str = Field(pattern="^[MF]$")
    birth_year: int = Field(ge=1880, le=2100)
    id_hash: str = Field(min_length=1, max_length=200)
    id_number_sealed: str = Field(min_length=1, max_length=2000)
    id_mask: str = Field(min_length=1, max_length=40)
    phone_sealed: str = Field(default="", max_length=2000)
    phone_mask: str = Field(default="", max_length=40)
    relation: Text(20, required=False) = ""
    flags: tuple[Ident, ...] = Field(default=(), max_length=20)


class UpdateResident(Command):
    name: str = "update_resident"
    resident_id: Ident
    household_id: Household | None = None
    full_name: Name(64) | None = None
    phone_sealed: str | None = Field(default=None, max_length=2000)
    phone_mask: str | None = Field(default=None, max_length=40)
    relation: Text(20, required=False) | None = None
    flags: tuple[Ident, ...] | None = Field(default=None, max_length=20)


class MoveOutResident(Command):
    name: str = "move_out_resident"
    resident_id: Ident
    reason: Text(500)


class VerifyResident(Command):
    name: str = "verify_resident"
    resident_id: Ident
    note: Text(500, required=False) = ""


class EraseResident(Command):
    name: str = "erase_resident"
    resident_id: Ident
    reason: Text(500)


COMMANDS: dict[str, type[Command]] = {c.model_fields["name"].default: c for c in (
    RegisterCompound, RegisterBuilding, AssignBuildingCadre, RegisterHousehold, RegisterResident,
    UpdateResident, MoveOutResident, VerifyResident, EraseResident)}
