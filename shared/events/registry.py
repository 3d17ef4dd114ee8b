"""Events of the registry service: the three-level net of compounds, buildings, households and
residents (一小区一大表, 一楼一中表, 一户一小表), and cadre responsibility for buildings (包干)."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.eventlog.envelope import Event, register


# The vulnerability flags a resident can carry, as printed and explained (中文, English): the
# vocabulary of `ResidentRegistered.flags`, read by every service that shows or ranks by them.
FLAG_LABELS: dict[str, tuple[str, str]] = {
    "elderly_alone": ("独居老人", "elderly living alone"),
    "chronic_illness": ("慢性病", "chronic illness"),
    "pregnant": ("孕妇", "pregnant"),
    "infant": ("婴幼儿", "infant"),
    "disability": ("残疾", "disability"),
}


class RegistryEvent(Event):
    service = "registry"


@register
class CompoundRegistered(RegistryEvent):
    """A residential compound was added to a committee's registry."""

    aggregate = "compound"
    compound: str = Field(description="compound id, a subject token")
    name: str = Field(description="the compound's name as residents know it, e.g. 樱花苑")
    town: str = Field(description="town (街镇) id, e.g. taopu")
    registered_by: str = Field(description="user id of the cadre who registered it")
    registered_at: datetime = Field(description="when it was registered")


@register
class BuildingRegistered(RegistryEvent):
    """A building of a compound was registered."""

    aggregate = "building"
    building: str = Field(description="building number as painted on it, e.g. 38")
    entrances: int = Field(ge=1, description="number of entrances (单元)")
    floors: int = Field(ge=1, description="number of floors")
    registered_by: str = Field(description="user id of the cadre who registered it")
    registered_at: datetime = Field(description="when it was registered")


@register
class BuildingCadreAssigned(RegistryEvent):
    """A committee cadre became responsible (包干) for keeping a building's records current."""

    aggregate = "building"
    building: str = Field(description="building number")
    cadre_id: str = Field(description="user id of the responsible cadre")
    cadre_name: str = Field(description="the cadre's name, shown on rosters")
    assigned_by: str = Field(description="who made the assignment")
    assigned_at: datetime = Field(description="when")


@register
class HouseholdRegistered(RegistryEvent):
    """A household (one door) was registered in a building."""

    aggregate = "household"
    household_id: str = Field(description="building-entrance-room, e.g. 38-1-302")
    building: str = Field(description="building number")
    entrance: str = Field(description="entrance (单元) number")
    room: str = Field(description="room number, e.g. 302")
    floor: int = Field(description="floor, derived from the room number")
    registered_by: str = Field(description="user id")
    registered_at: datetime = Field(description="when")


class ProtectedFields(RegistryEvent):
    """Personal fields travel sealed: AES-GCM with the person's own key, plus a mask for display."""

    id_hash: str = Field(description="blind index of the ID number (keyed hash), for de-duplication")
    id_number_sealed: str = Field(description="ID number, encrypted with the resident's key")
    id_mask: str = Field(description="masked ID number, e.g. 310101********1234")
    phone_sealed: str = Field(default="", description="phone, encrypted with the resident's key; empty if none")
    phone_mask: str = Field(default="", description="masked phone, e.g. 138****5678")


@register
class ResidentRegistered(ProtectedFields):
    """A resident was registered in a household."""

    aggregate = "resident"
    resident_id: str = Field(description="stable id of the person within the tenant")
    household_id: str = Field(description="household the resident lives in")
    name: str = Field(description="full name")
    sex: str = Field(pattern="^[MF]$", description="M or F")
    birth_year: int = Field(description="year of birth (from the ID number), for age on rosters")
    relation: str = Field(default="", description="relation to the head of household (与户主关系)")
    flags: tuple[str, ...] = Field(default=(), description=f"vulnerability flags: {', '.join(FLAG_LABELS)}")
    registered_by: str = Field(description="user id, or import:<file> for an import")
    registered_at: datetime = Field(description="when")


@register
class ResidentUpdated(RegistryEvent):
    """Some of a resident's details changed; fields left out did not change."""

    aggregate = "resident"
    resident_id: str = Field(description="resident id")
    household_id: str | None = Field(default=None, description="new household, if moved within the compound")
    name: str | None = Field(default=None, description="corrected name")
    phone_sealed: str | None = Field(default=None, description="new phone, encrypted")
    phone_mask: str | None = Field(default=None, description="new phone, masked")
    relation: str | None = Field(default=None, description="new relation to the head of household")
    flags: tuple[str, ...] | None = Field(default=None, description="new set of vulnerability flags")
    updated_by: str = Field(description="user id")
    updated_at: datetime = Field(description="when")


@register
class ResidentMovedOut(RegistryEvent):
    """A resident no longer lives in the compound."""

    aggregate = "resident"
    resident_id: str = Field(description="resident id")
    reason: str = Field(description="why, as told by the cadre")
    moved_out_by: str = Field(description="user id")
    moved_out_at: datetime = Field(description="when")


@register
class ResidentVerified(RegistryEvent):
    """A cadre checked a resident's record at the door (走访核对)."""

    aggregate = "resident"
    resident_id: str = Field(description="resident id")
    verified_by: str = Field(description="user id of the cadre")
    verified_at: datetime = Field(description="when")
    note: str = Field(default="", description="what the cadre noted")


@register
class ResidentErased(RegistryEvent):
    """A resident's personal data was erased (PIPL Art. 47): their key is gone and views forget them."""

    aggregate = "resident"
    resident_id: str = Field(description="resident id")
    erased_by: str = Field(description="user id")
    erased_at: datetime = Field(description="when")
    reason: str = Field(description="legal ground or purpose ended")
