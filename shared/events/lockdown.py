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


@register
class TownPolicySet(LockdownEvent):
    """A town set (or changed) its lockdown policy; episodes keep the version they started with."""

    aggregate = "town"
    town: str = Field(description="town id")
    policy_version: int = Field(ge=1, description="policy version, +1 on every change")
    seal_days: float = Field(gt=0, description="length of the seal (封控期), default 2 days")
    monitoring_days: float = Field(gt=0, description="length of health monitoring (健康监测期), default 12 days")
    max_out_minutes: int = Field(gt=0, description="how long a resident may stay out during monitoring")
    report_times: tuple[str, ...] = Field(description="temperature report times, e.g. 08:00 and 14:00")
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
