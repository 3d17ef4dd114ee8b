"""Events of the roster service: the gate-post duty rota (门岗值班) of a compound, and reinforcements
the town sends from neighbouring compounds and units (the "N" of "3+N").

A compound's whole rota — its pool of people, its gate posts, the planned shifts, swaps, check-ins
and the cadres' standby list — is one aggregate `rota` (id: the compound), so "never one person in
two places at once" is decided against one consistent state. A reinforcement request is the
aggregate `reinforcement`. Days are Shanghai calendar dates; shifts are "HH:MM-HH:MM".
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.eventlog.envelope import Event, register

Role = Literal["committee_cadre", "party_volunteer", "property_staff", "owners_committee", "town_liaison",
               "co_building_unit", "reinforcement"]
ROLES: tuple[str, ...] = ("committee_cadre", "party_volunteer", "property_staff", "owners_committee", "town_liaison",
                          "co_building_unit", "reinforcement")


class RosterEvent(Event):
    service = "roster"


@register
class DutyPersonEnrolled(RosterEvent):
    """Someone joined the compound's duty pool (or came back to it with new details)."""

    aggregate = "rota"
    person_id: str = Field(description="person id, unique within the town")
    name: str = Field(description="name shown on the rota")
    role: Role = Field(description="committee cadre, party-member volunteer, property staff, owners' committee, "
                                   "town liaison, co-building unit, or reinforcement from elsewhere")
    home_compound: str = Field(description="the compound or unit the person normally belongs to")
    available_from: date | None = Field(default=None, description="first day available; none: from now")
    available_until: date | None = Field(default=None, description="last day available; none: open-ended")
    unavailable: tuple[date, ...] = Field(default=(), description="days the person cannot serve")
    request_id: str = Field(default="", description="the reinforcement request that brought them, if any")
    enrolled_by: str = Field(description="user id")
    enrolled_at: datetime = Field(description="when")


@register
class DutyAvailabilitySet(RosterEvent):
    """A person's availability changed."""

    aggregate = "rota"
    person_id: str = Field(description="person id")
    available_from: date | None = Field(default=None, description="first day available")
    available_until: date | None = Field(default=None, description="last day available")
    unavailable: tuple[date, ...] = Field(default=(), description="days the person cannot serve")
    set_by: str = Field(description="user id")
    set_at: datetime = Field(description="when")


@register
class DutyPersonWithdrawn(RosterEvent):
    """Someone left the duty pool; their planned shifts from `from_day` on become gaps."""

    aggregate = "rota"
    person_id: str = Field(description="person id")
    from_day: date = Field(description="first day they no longer serve")
    reason: str = Field(description="why, e.g. fell ill")
    withdrawn_by: str = Field(description="user id")
    withdrawn_at: datetime = Field(description="when")


@register
class DutyPersonLent(RosterEvent):
    """The town sent one of this compound's people to another compound for some days; their shifts
    here on those days become gaps."""

    aggregate = "rota"
    person_id: str = Field(description="person id")
    to_tenant: str = Field(description="committee receiving them")
    to_compound: str = Field(description="compound receiving them")
    request_id: str = Field(description="the reinforcement request")
    from_day: date = Field(description="first day away")
    until_day: date = Field(description="last day away")
    lent_by: str = Field(description="the town dispatcher's user id")
    lent_at: datetime = Field(description="when")


@register
class GatePostOpened(RosterEvent):
    """A gate post (门岗) was set up at a sealed building, with its shifts for the period."""

    aggregate = "rota"
    post_id: str = Field(description="post id, e.g. b38")
    building: str = Field(description="building number")
    start: date = Field(description="first day staffed")
    end: date = Field(description="last day staffed")
    shifts: tuple[str, ...] = Field(description="shifts each day, from the town policy, e.g. 08:30-12:30")
    opened_by: str = Field(description="user id")
    opened_at: datetime = Field(description="when")


@register
class GatePostClosed(RosterEvent):
    """A gate post stops being staffed after `last_day` (the building was released)."""

    aggregate = "rota"
    post_id: str = Field(description="post id")
    last_day: date = Field(description="last day staffed")
    closed_by: str = Field(description="user id")
    closed_at: datetime = Field(description="when")


class PlannedShift(BaseModel):
    """One shift of one post on one day and who stands it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    post_id: str = Field(description="post id")
    day: date = Field(description="day")
    shift: str = Field(description="shift, HH:MM-HH:MM")
    people: tuple[str, ...] = Field(description="person ids, a pair when fully staffed")


@register
class RotaPlanned(RosterEvent):
    """The rota was (re)planned for the days `start`..`end`: these shifts replace what was planned
    for those days; days before `start` are untouched."""

    aggregate = "rota"
    start: date = Field(description="first day planned")
    end: date = Field(description="last day planned")
    shifts: tuple[PlannedShift, ...] = Field(description="every shift of every open post in the range")
    gaps: int = Field(description="shifts with fewer than two people")
    planned_by: str = Field(description="user id")
    planned_at: datetime = Field(description="when")


@register
class ShiftSwapped(RosterEvent):
    """One person stands in for another (a manual swap)."""

    aggregate = "rota"
    post_id: str = Field(description="post id")
    day: date = Field(description="day")
    shifts: tuple[str, ...] = Field(description="shifts swapped (all of that day's, or one)")
    out_person: str = Field(description="person id leaving the shift")
    in_person: str = Field(description="person id taking it")
    reason: str = Field(description="why")
    warnings: tuple[str, ...] = Field(default=(), description="accepted warnings, e.g. no_rest_day")
    swapped_by: str = Field(description="user id")
    swapped_at: datetime = Field(description="when")


@register
class ShiftCheckedIn(RosterEvent):
    """A person arrived at their gate post for a shift."""

    aggregate = "rota"
    post_id: str = Field(description="post id")
    day: date = Field(description="day")
    shift: str = Field(description="shift")
    person_id: str = Field(description="person id")
    checked_in_at: datetime = Field(description="when")


@register
class ShiftCheckedOut(RosterEvent):
    """A person left their gate post, with a hand-over note for the next shift."""

    aggregate = "rota"
    post_id: str = Field(description="post id")
    day: date = Field(description="day")
    shift: str = Field(description="shift")
    person_id: str = Field(description="person id")
    handover_note: str = Field(default="", description="what the next shift must know (交接)")
    checked_out_at: datetime = Field(description="when")


@register
class StandbySet(RosterEvent):
    """The cadres on 24-hour standby (24小时待命) for a day."""

    aggregate = "rota"
    day: date = Field(description="day")
    person_ids: tuple[str, ...] = Field(description="cadres on standby")
    set_by: str = Field(description="user id")
    set_at: datetime = Field(description="when")


@register
class ReinforcementRequested(RosterEvent):
    """A committee asked the town for people (增援)."""

    aggregate = "reinforcement"
    request_id: str = Field(description="request id")
    town: str = Field(description="town asked")
    people: int = Field(description="how many people")
    from_day: date = Field(description="first day needed")
    until_day: date = Field(description="last day needed")
    reason: str = Field(description="why, e.g. a fourth building sealed")
    requested_by: str = Field(description="user id")
    requested_at: datetime = Field(description="when")


class DispatchedPerson(BaseModel):
    """Someone the town sends."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    person_id: str = Field(description="person id, unique within the town")
    name: str = Field(description="name")
    from_tenant: str = Field(default="", description="committee they come from; empty for a unit outside any committee")
    from_compound: str = Field(description="compound or unit they come from")


@register
class ReinforcementDispatched(RosterEvent):
    """The town sent people for a request; they join the asking compound's pool for those days."""

    aggregate = "reinforcement"
    request_id: str = Field(description="request id")
    people: tuple[DispatchedPerson, ...] = Field(description="who was sent")
    dispatched_by: str = Field(description="the town dispatcher's user id")
    dispatched_at: datetime = Field(description="when")


@register
class ReinforcementClosed(RosterEvent):
    """A reinforcement request was closed (filled, or no longer needed)."""

    aggregate = "reinforcement"
    request_id: str = Field(description="request id")
    outcome: Literal["filled", "withdrawn"] = Field(description="filled, or withdrawn by the committee")
    closed_by: str = Field(description="user id")
    closed_at: datetime = Field(description="when")


