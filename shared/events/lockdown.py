"""Events of the lockdown service: the sealing of a building in phases (2-day seal, 12-day health
monitoring, release), the town's policy and playbook, notices, the building group (楼组群) and the
gate log (出入登记).

The town aggregate (policy and playbook) lives under the tenant token `town-<town>` and the
compound token `all`; buildings under the committee and compound, like the registry.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.eventlog.envelope import Event, register

Phase = Literal["sealed", "health_monitoring", "released"]
Party = Literal["community_doctor", "police", "committee_cadre", "property_manager", "town_office"]
PARTIES: tuple[str, ...] = ("community_doctor", "police", "committee_cadre", "property_manager", "town_office")


class LockdownEvent(Event):
    service = "lockdown"


class TaskSpec(BaseModel):
    """One task of a town playbook."""

    model_config = ConfigDict(frozen=True)
    key: str = Field(description="stable task id, e.g. print_roster")
    title_zh: str = Field(description="task title in Simplified Chinese")
    title_en: str = Field(description="task title in English")
    due_offset_s: int = Field(ge=0, description="seconds after sealing when it is due")
    owner_role: str = Field(description="who does it, e.g. committee_cadre")


class NoticeSpec(BaseModel):
    """One notice template; {placeholders} are filled when a notice is published."""

    model_config = ConfigDict(frozen=True)
    key: str = Field(description="template id, e.g. sealing_notice")
    title_zh: str = Field(description="title in Simplified Chinese")
    body_zh: str = Field(description="body with {placeholders}")


class StampedTask(BaseModel):
    """A playbook task of one sealed building, with its due time."""

    model_config = ConfigDict(frozen=True)
    key: str = Field(description="task id")
    title_zh: str = Field(description="title in Simplified Chinese")
    title_en: str = Field(description="title in English")
    owner_role: str = Field(description="who does it")
    due_at: datetime = Field(description="when it is due")


# What a town starts with until it sets its own policy (and what a policy leaves out): the temperature
# report windows open at these times, and the gate posts are staffed in these shifts (Shanghai time).
DEFAULT_REPORT_TIMES: tuple[str, ...] = ("08:00", "14:00")
DEFAULT_GATE_SHIFTS: tuple[str, ...] = ("08:30-12:30", "13:00-17:00")


@register
class TownPolicySet(LockdownEvent):
    """A town set (or changed) its lockdown policy; episodes keep the version they started with."""

    aggregate = "town"
    town: str = Field(description="town id")
    policy_version: int = Field(ge=1, description="policy version, +1 on every change")
    seal_days: float = Field(gt=0, description="length of the seal (封控期), default 2 days")
    monitoring_days: float = Field(gt=0, description="length of health monitoring (健康监测期), default 12 days")
    max_out_minutes: int = Field(gt=0, description="how long a resident may stay out during monitoring")
    report_times: tuple[str, ...] = Field(description="temperature report windows open, Shanghai time, e.g. "
                                                         + ", ".join(DEFAULT_REPORT_TIMES))
    report_window_minutes: int = Field(default=120, gt=0, description="how long each report window stays open")
    fever_threshold: float = Field(default=37.3, description="a temperature at or above this raises a fever alert")
    gate_shifts: tuple[str, ...] = Field(default=DEFAULT_GATE_SHIFTS,
                                         description="gate-post shifts (门岗班次), Shanghai time, HH:MM-HH:MM")
    set_by: str = Field(description="user id")
    set_at: datetime = Field(description="when")


@register
class PlaybookPublished(LockdownEvent):
    """A town published a version of its standard workflow and notice templates."""

    aggregate = "town"
    town: str = Field(description="town id")
    template_version: int = Field(ge=0, description="template version, +1 on every edit (0: the built-in one)")
    tasks: tuple[TaskSpec, ...] = Field(description="the workflow's tasks")
    notices: tuple[NoticeSpec, ...] = Field(description="notice templates")
    published_by: str = Field(description="user id")
    published_at: datetime = Field(description="when")


@register
class BuildingSealed(LockdownEvent):
    """A building was sealed (封楼): an episode starts in the SEALED phase."""

    aggregate = "building"
    episode_id: str = Field(description="id of this lockdown episode of the building")
    building: str = Field(description="building number")
    town: str = Field(description="town whose policy and playbook apply")
    ordered_by: str = Field(description="who ordered the seal (user id or the town's instruction)")
    reason: str = Field(description="why, e.g. a positive case in 302")
    sealed_at: datetime = Field(description="when the seal began")
    seal_ends_at: datetime = Field(description="when health monitoring is due to begin")
    monitoring_ends_at: datetime = Field(description="when the building is due to be released")
    policy_version: int = Field(description="version of the town policy the episode keeps")
    seal_days: float = Field(description="the policy's seal length, kept for a reset")
    monitoring_days: float = Field(description="the policy's monitoring length, kept for a reset")
    max_out_minutes: int = Field(description="how long a resident may stay out during monitoring")
    playbook_version: int = Field(description="version of the playbook the episode keeps")


@register
class PlaybookStamped(LockdownEvent):
    """The town playbook was stamped out for a sealed building."""

    aggregate = "building"
    episode_id: str = Field(description="episode")
    template_version: int = Field(description="playbook version used")
    tasks: tuple[StampedTask, ...] = Field(description="tasks with their due times")


@register
class PlaybookTaskCompleted(LockdownEvent):
    """A playbook task of a sealed building was done."""

    aggregate = "building"
    episode_id: str = Field(description="episode")
    task_key: str = Field(description="task id")
    completed_by: str = Field(description="user id")
    completed_at: datetime = Field(description="when")
    note: str = Field(default="", description="what was noted")


@register
class EpisodeRescheduled(LockdownEvent):
    """An episode's phase ends were moved, with a reason: extended, shortened, or reset by a new case."""

    aggregate = "building"
    episode_id: str = Field(description="episode")
    kind: Literal["extend", "shorten", "reset"] = Field(description="what kind of change")
    phase: Phase = Field(description="the phase the building is in after the change")
    seal_ends_at: datetime = Field(description="new end of the seal")
    monitoring_ends_at: datetime = Field(description="new end of health monitoring")
    reason: str = Field(description="why")
    changed_by: str = Field(description="user id")
    changed_at: datetime = Field(description="when")


@register
class HealthMonitoringStarted(LockdownEvent):
    """The seal ended on time and the building entered health monitoring (健康监测期)."""

    aggregate = "building"
    episode_id: str = Field(description="episode")
    started_at: datetime = Field(description="when the phase began (its due time)")
    recorded_at: datetime = Field(description="when the service recorded it (later if it was down)")


@register
class BuildingUnsealed(LockdownEvent):
    """The building was released (解封)."""

    aggregate = "building"
    episode_id: str = Field(description="episode")
    released_at: datetime = Field(description="when the release took effect")
    recorded_at: datetime = Field(description="when the service recorded it")
    released_by: str = Field(description="'schedule' when on time, else the user id")
    early: bool = Field(description="released before the monitoring period ended")
    reason: str = Field(default="", description="why, required when early")


@register
class NoticePublished(LockdownEvent):
    """A notice was rendered from a template and published for a building."""

    aggregate = "building"
    episode_id: str = Field(description="episode")
    notice_id: str = Field(description="notice id")
    template_key: str = Field(description="template used")
    title_zh: str = Field(description="title")
    text_zh: str = Field(description="rendered text in Simplified Chinese")
    published_by: str = Field(description="user id")
    published_at: datetime = Field(description="when")


@register
class GroupMemberJoined(LockdownEvent):
    """Someone joined the building group (楼组群): a member of a household or a service party."""

    aggregate = "building"
    member_id: str = Field(description="member id within the group")
    kind: Literal["household", "party"] = Field(description="a household member or one of the five parties")
    household_id: str | None = Field(default=None, description="household, for household members")
    party: Party | None = Field(default=None, description="which service party")
    display_name: str = Field(description="name shown in the group")
    joined_at: datetime = Field(description="when")
    added_by: str = Field(description="user id")


@register
class GroupMemberLeft(LockdownEvent):
    """Someone left the building group."""

    aggregate = "building"
    member_id: str = Field(description="member id")
    left_at: datetime = Field(description="when")
    removed_by: str = Field(description="user id")


@register
class GatePassRecorded(LockdownEvent):
    """The gate post recorded a resident going out or coming in (出入登记)."""

    aggregate = "building"
    episode_id: str = Field(description="episode")
    pass_id: str = Field(description="id of this record")
    resident_id: str = Field(description="resident")
    household_id: str = Field(description="household")
    direction: Literal["out", "in"] = Field(description="out or in")
    reason: str = Field(description="e.g. medical, transfer, work, shopping")
    passed_at: datetime = Field(description="when")
    recorded_by: str = Field(description="gate-post volunteer's user id")


# --- health in a sealed building: temperature reports, testing rounds, transfers, disinfection ---


@register
class ResidentReported(LockdownEvent):
    """A resident (or a cadre for them) reported temperature and symptoms; health fields are sealed."""

    aggregate = "household"
    report_id: str = Field(description="report id")
    resident_id: str = Field(description="resident")
    household_id: str = Field(description="household")
    building: str = Field(description="building number")
    window_start: datetime = Field(description="start of the report window this report belongs to")
    temperature_sealed: str = Field(description="temperature in °C, encrypted with the resident's key")
    symptoms_sealed: str = Field(default="", description="symptoms, encrypted; empty if none")
    need_sealed: str = Field(default="", description="a need in free text (e.g. no thermometer), encrypted")
    has_need: bool = Field(default=False, description="whether a need was raised, so it can be followed up")
    fever: bool = Field(description="temperature at or above the town's threshold")
    reported_by: str = Field(description="the resident, or the cadre who reported for them")
    reported_at: datetime = Field(description="when")


@register
class FeverAlertRaised(LockdownEvent):
    """A report showed a fever: the responsible cadre and the community doctor must act now."""

    aggregate = "household"
    report_id: str = Field(description="the report that raised it")
    resident_id: str = Field(description="resident")
    household_id: str = Field(description="household")
    building: str = Field(description="building number")
    raised_at: datetime = Field(description="when")


class CallDownSlot(BaseModel):
    """Floors called down together at one time (错峰)."""

    model_config = ConfigDict(frozen=True)
    floors: tuple[int, ...] = Field(description="floors called in this slot")
    starts_at: datetime = Field(description="when they are called down")


@register
class TestingRoundScheduled(LockdownEvent):
    """A mass-testing round (全员核酸) was scheduled for one or more buildings."""

    __test__ = False  # not a pytest test class

    aggregate = "round"
    round_id: str = Field(description="round id")
    buildings: tuple[str, ...] = Field(description="building numbers tested in this round")
    site: str = Field(description="where sampling takes place")
    starts_at: datetime = Field(description="when sampling starts")
    call_down: tuple[CallDownSlot, ...] = Field(description="staggered call-down order by floor")
    scheduled_by: str = Field(description="user id")
    scheduled_at: datetime = Field(description="when")


@register
class SamplingCodeBooked(LockdownEvent):
    """A resident's sampling code was booked in advance (预约核酸码)."""

    aggregate = "sampling"
    round_id: str = Field(description="round")
    resident_id: str = Field(description="resident")
    household_id: str = Field(description="household")
    code: str = Field(description="the sampling code shown on the resident's phone")
    booked_by: str = Field(description="user id")
    booked_at: datetime = Field(description="when")


@register
class ResidentSampled(LockdownEvent):
    """A resident was sampled and checked off against the roster."""

    aggregate = "sampling"
    round_id: str = Field(description="round")
    resident_id: str = Field(description="resident")
    household_id: str = Field(description="household")
    method: Literal["code", "roster", "door"] = Field(description="checked off by code, from the roster, or sampled at the door")
    tube_id: str = Field(description="pooled tube (about 10 samples per tube)")
    sampled_by: str = Field(description="volunteer or medic user id")
    sampled_at: datetime = Field(description="when")


@register
class ResidentMarkedAbsent(LockdownEvent):
    """A resident could not be sampled in this round, with the reason (e.g. away from home)."""

    aggregate = "sampling"
    round_id: str = Field(description="round")
    resident_id: str = Field(description="resident")
    household_id: str = Field(description="household")
    reason: str = Field(description="why, as told to the cadre")
    marked_by: str = Field(description="user id")
    marked_at: datetime = Field(description="when")


@register
class TestingRoundClosed(LockdownEvent):
    """A round was closed and reconciled against the roster."""

    __test__ = False

    aggregate = "round"
    round_id: str = Field(description="round")
    sampled: int = Field(description="residents sampled")
    absent: int = Field(description="residents absent with a reason")
    unaccounted: tuple[str, ...] = Field(default=(), description="resident ids closed without sample or reason (forced)")
    closed_by: str = Field(description="user id")
    closed_at: datetime = Field(description="when")


@register
class TestResultRecorded(LockdownEvent):
    """The laboratory's result for one pooled tube."""

    __test__ = False

    aggregate = "round"
    round_id: str = Field(description="round")
    tube_id: str = Field(description="tube")
    positive: bool = Field(description="positive pool: every resident in it is flagged")
    recorded_by: str = Field(description="user id")
    recorded_at: datetime = Field(description="when")


@register
class ResidentTransferred(LockdownEvent):
    """A resident was transferred (转运) to a facility."""

    aggregate = "building"
    resident_id: str = Field(description="resident")
    household_id: str = Field(description="household")
    facility: str = Field(description="where to, e.g. a designated hospital or a shelter hospital")
    transferred_by: str = Field(description="user id")
    transferred_at: datetime = Field(description="when")


@register
class BuildingDisinfected(LockdownEvent):
    """A building, or some of its floors, was disinfected (消杀)."""

    aggregate = "building"
    floors: tuple[int, ...] = Field(default=(), description="floors disinfected; empty means the whole building")
    disinfected_by: str = Field(description="user id or team")
    disinfected_at: datetime = Field(description="when")
