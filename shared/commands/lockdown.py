"""Commands the lockdown service accepts over NATS request–reply (`louzu.cmd.<tenant>.lockdown.<name>`).

Town-level commands (policy, playbook) use the tenant `town-<town>` and the compound `all`."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.commands.base import Command
from shared.events.lockdown import NoticeSpec, Party, TaskSpec


class SetTownPolicy(Command):
    name: str = "set_town_policy"
    town: str
    seal_days: float = Field(default=2, gt=0, le=60)
    monitoring_days: float = Field(default=12, gt=0, le=60)
    max_out_minutes: int = Field(default=120, gt=0, le=24 * 60)
    report_times: tuple[str, ...] = ("08:00", "14:00")
    report_window_minutes: int = Field(default=120, gt=0, le=24 * 60)
    fever_threshold: float = Field(default=37.3, ge=36.0, le=39.0)
    gate_shifts: tuple[str, ...] = Field(default=("08:30-12:30", "13:00-17:00"), min_length=1, max_length=6,
                                         description="gate-post shifts, Shanghai time, HH:MM-HH:MM")


class PublishPlaybook(Command):
    name: str = "publish_playbook"
    town: str
    tasks: tuple[TaskSpec, ...] | None = Field(default=None, description="None: the built-in standard workflow")
    notices: tuple[NoticeSpec, ...] | None = None


class SealBuilding(Command):
    name: str = "seal_building"
    building: str
    town: str
    reason: str = Field(min_length=1, max_length=500)
    ordered_by: str = Field(min_length=1, description="who ordered it, e.g. 镇防控办")


class RescheduleEpisode(Command):
    name: str = "reschedule_episode"
    building: str
    kind: Literal["extend", "shorten", "reset"]
    days: float = Field(default=0, ge=0, le=60, description="how much to extend or shorten the current phase")
    reason: str = Field(min_length=1, max_length=500)


class ReleaseBuilding(Command):
    name: str = "release_building"
    building: str
    reason: str = ""


class AdvancePhase(Command):
    """Issued by the schedule: move the building to the next phase if it is due."""

    name: str = "advance_phase"
    building: str
    episode_id: str


class CompleteTask(Command):
    name: str = "complete_task"
    building: str
    task_key: str
    note: str = ""


class PublishNotice(Command):
    name: str = "publish_notice"
    building: str
    template_key: str
    compound_name: str = ""
    testing_time: datetime | None = None
    testing_place: str = ""
    hotline: str = ""


class JoinGroup(Command):
    name: str = "join_group"
    building: str
    kind: Literal["household", "party"]
    household_id: str | None = None
    party: Party | None = None
    display_name: str = Field(min_length=1, max_length=64)
    member_id: str | None = None


class LeaveGroup(Command):
    name: str = "leave_group"
    building: str
    member_id: str


class RecordGatePass(Command):
    name: str = "record_gate_pass"
    building: str
    resident_id: str
    household_id: str
    direction: Literal["out", "in"]
    reason: str = Field(min_length=1, max_length=200)
    passed_at: datetime | None = None


class ReportResident(Command):
    name: str = "report_resident"
    building: str
    household_id: str
    resident_id: str
    temperature: float = Field(ge=34.0, le=43.0, description="°C, as read on the thermometer")
    symptoms: str = Field(default="", max_length=500)
    need: str = Field(default="", max_length=500, description="a need in free text, e.g. no thermometer")


class ScheduleTestingRound(Command):
    name: str = "schedule_testing_round"
    round_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]{0,31}$")
    buildings: tuple[str, ...] = Field(min_length=1)
    site: str = Field(min_length=1, max_length=200)
    starts_at: datetime
    top_floor: int = Field(default=6, ge=1, le=120)
    floors_per_slot: int = Field(default=3, ge=1, le=120)
    slot_minutes: int = Field(default=15, ge=1, le=240)


class BookSamplingCode(Command):
    name: str = "book_sampling_code"
    round_id: str
    resident_id: str
    household_id: str
    code: str = Field(min_length=4, max_length=64)


class CheckOffSample(Command):
    name: str = "check_off_sample"
    round_id: str
    resident_id: str
    household_id: str
    method: Literal["code", "roster", "door"] = "roster"
    tube_id: str = Field(min_length=1, max_length=64)


class MarkAbsent(Command):
    name: str = "mark_absent"
    round_id: str
    resident_id: str
    household_id: str
    reason: str = Field(min_length=1, max_length=200)


class CloseTestingRound(Command):
    name: str = "close_testing_round"
    round_id: str
    force: bool = Field(default=False, description="close with residents unaccounted for, listing them")


class RecordTestResult(Command):
    name: str = "record_test_result"
    round_id: str
    tube_id: str
    positive: bool


class TransferResident(Command):
    name: str = "transfer_resident"
    building: str
    resident_id: str
    household_id: str
    facility: str = Field(min_length=1, max_length=200)


class DisinfectBuilding(Command):
    name: str = "disinfect_building"
    building: str
    floors: tuple[int, ...] = ()


COMMANDS: dict[str, type[Command]] = {c.model_fields["name"].default: c for c in (
    SetTownPolicy, PublishPlaybook, SealBuilding, RescheduleEpisode, ReleaseBuilding, AdvancePhase, CompleteTask,
    PublishNotice, JoinGroup, LeaveGroup, RecordGatePass, ReportResident, ScheduleTestingRound,
    BookSamplingCode, CheckOffSample, MarkAbsent, CloseTestingRound, RecordTestResult, TransferResident,
    DisinfectBuilding)}
