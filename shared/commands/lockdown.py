"""Commands the lockdown service accepts over NATS request–reply (`louzu.cmd.<tenant>.lockdown.<name>`).

Town-level commands (policy, playbook) use the tenant `town-<town>` and the compound `all`."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shared.commands.base import (IDENT, Building, ClockTime, Command, Household, Ident, Moment, Name, RoundId,
                                  ShiftTime, Text, Town)
from shared.events.lockdown import DEFAULT_GATE_SHIFTS, DEFAULT_REPORT_TIMES, NoticeSpec, Party, TaskSpec


class SetTownPolicy(Command):
    name: str = "set_town_policy"
    town: Town
    seal_days: float = Field(default=2, gt=0, le=60)
    monitoring_days: float = Field(default=12, gt=0, le=60)
    max_out_minutes: int = Field(default=120, gt=0, le=24 * 60)
    report_times: tuple[ClockTime, ...] = Field(default=DEFAULT_REPORT_TIMES, min_length=1, max_length=6)
    report_window_minutes: int = Field(default=120, gt=0, le=24 * 60)
    fever_threshold: float = Field(default=37.3, ge=36.0, le=39.0)
    gate_shifts: tuple[ShiftTime, ...] = Field(default=DEFAULT_GATE_SHIFTS, min_length=1, max_length=6,
                                         description="gate-post shifts, Shanghai time, HH:MM-HH:MM")


class PublishPlaybook(Command):
    name: str = "publish_playbook"
    town: Town
    tasks: tuple[TaskSpec, ...] | None = Field(default=None, description="None: the built-in standard workflow")
    notices: tuple[NoticeSpec, ...] | None = None


class SealBuilding(Command):
    name: str = "seal_building"
    building: Building
    town: Town
    reason: Text(500)
    ordered_by: Name(100) = Field(description="who ordered it, e.g. 镇防控办")


class RescheduleEpisode(Command):
    name: str = "reschedule_episode"
    building: Building
    kind: Literal["extend", "shorten", "reset"]
    days: float = Field(default=0, ge=0, le=60, description="how much to extend or shorten the current phase")
    reason: Text(500)


class ReleaseBuilding(Command):
    name: str = "release_building"
    building: Building
    reason: Text(500, required=False) = Field(default="", description="required when releasing early")


class AdvancePhase(Command):
    """Issued by the schedule: move the building to the next phase if it is due."""

    name: str = "advance_phase"
    building: Building
    episode_id: Ident


class CompleteTask(Command):
    name: str = "complete_task"
    building: Building
    task_key: Ident
    note: Text(500, required=False) = ""


class PublishNotice(Command):
    name: str = "publish_notice"
    building: Building
    template_key: Ident
    compound_name: Text(100, required=False) = ""
    testing_time: Moment | None = None
    testing_place: Text(200, required=False) = ""
    hotline: str = Field(default="", max_length=40, pattern=r"^[0-9+()\- ]*$")


class JoinGroup(Command):
    name: str = "join_group"
    building: Building
    kind: Literal["household", "party"]
    household_id: Household | None = None
    party: Party | None = None
    display_name: Name(64)
    member_id: Ident | None = None


class LeaveGroup(Command):
    name: str = "leave_group"
    building: Building
    member_id: Ident


class RecordGatePass(Command):
    name: str = "record_gate_pass"
    building: Building
    resident_id: Ident
    household_id: Household
    direction: Literal["out", "in"]
    reason: Text(200)
    passed_at: Moment | None = None


class ReportResident(Command):
    name: str = "report_resident"
    building: Building
    household_id: Household
    resident_id: Ident
    temperature: float = Field(ge=34.0, le=43.0, description="°C, as read on the thermometer")
    symptoms: Text(500, required=False) = ""
    need: Text(500, required=False) = Field(default="", description="a need in free text, e.g. no thermometer")


class ScheduleTestingRound(Command):
    name: str = "schedule_testing_round"
    round_id: RoundId
    buildings: tuple[Building, ...] = Field(min_length=1, max_length=100)
    site: Name(200)
    starts_at: Moment
    top_floor: int = Field(default=6, ge=1, le=120)
    floors_per_slot: int = Field(default=3, ge=1, le=120)
    slot_minutes: int = Field(default=15, ge=1, le=240)


class BookSamplingCode(Command):
    name: str = "book_sampling_code"
    round_id: RoundId
    resident_id: Ident
    household_id: Household
    code: str = Field(min_length=4, max_length=64, pattern=IDENT)


class CheckOffSample(Command):
    name: str = "check_off_sample"
    round_id: RoundId
    resident_id: Ident
    household_id: Household
    method: Literal["code", "roster", "door"] = "roster"
    tube_id: Ident


class MarkAbsent(Command):
    name: str = "mark_absent"
    round_id: RoundId
    resident_id: Ident
    household_id: Household
    reason: Text(200)


class CloseTestingRound(Command):
    name: str = "close_testing_round"
    round_id: RoundId
    force: bool = Field(default=False, description="close with residents unaccounted for, listing them")


class RecordTestResult(Command):
    name: str = "record_test_result"
    round_id: RoundId
    tube_id: Ident
    positive: bool


class TransferResident(Command):
    name: str = "transfer_resident"
    building: Building
    resident_id: Ident
    household_id: Household
    facility: Name(200)


class DisinfectBuilding(Command):
    name: str = "disinfect_building"
    building: Building
    floors: tuple[Annotated[int, Field(ge=-5, le=120)], ...] = Field(default=(), max_length=125)


COMMANDS: dict[str, type[Command]] = {c.model_fields["name"].default: c for c in (
    SetTownPolicy, PublishPlaybook, SealBuilding, RescheduleEpisode, ReleaseBuilding, AdvancePhase, CompleteTask,
    PublishNotice, JoinGroup, LeaveGroup, RecordGatePass, ReportResident, ScheduleTestingRound,
    BookSamplingCode, CheckOffSample, MarkAbsent, CloseTestingRound, RecordTestResult, TransferResident,
    DisinfectBuilding)}
