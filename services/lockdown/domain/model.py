"""The sealed building as state folded from events, and the rules of the "3+N" method:
phases on time, a playbook per building, notices, the building group and the gate log."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.commands import lockdown as c
from shared.errors import DomainError
from shared.eventlog.envelope import Event
from shared.events import lockdown as e

DEFAULT_POLICY = dict(seal_days=2.0, monitoring_days=12.0, max_out_minutes=120, report_times=e.DEFAULT_REPORT_TIMES,
                      report_window_minutes=120, fever_threshold=37.3, gate_shifts=e.DEFAULT_GATE_SHIFTS)
EXIT_DURING_SEAL = {"transfer", "medical", "转运", "就医"}
ACTIVE = ("sealed", "health_monitoring")


@dataclass
class Town:
    """A town's policy and every version of its playbook (episodes keep the version they began with)."""

    policy: e.TownPolicySet | None = None
    playbooks: dict[int, e.PlaybookPublished] = field(default_factory=dict)

    @property
    def policy_version(self) -> int:
        return self.policy.policy_version if self.policy else 0

    @property
    def playbook_version(self) -> int:
        return max(self.playbooks, default=0)


@dataclass
class Member:
    kind: str
    household_id: str | None
    party: str | None


@dataclass
class Building:
    phase: str | None = None
    episode_id: str = ""
    town: str = ""
    sealed_at: datetime | None = None
    seal_ends_at: datetime | None = None
    monitoring_ends_at: datetime | None = None
    playbook_version: int = 0
    policy: dict = field(default_factory=lambda: dict(DEFAULT_POLICY))
    tasks: dict[str, bool] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    out: dict[str, datetime] = field(default_factory=dict)


def apply_town(town: Town, event: Event) -> Town:
    match event:
        case e.TownPolicySet():
            town.policy = event
        case e.PlaybookPublished():
            town.playbooks[event.template_version] = event
    return town


def apply(b: Building, event: Event) -> Building:
    match event:
        case e.BuildingSealed():
            b.phase, b.episode_id, b.town = "sealed", event.episode_id, event.town
            b.sealed_at, b.seal_ends_at, b.monitoring_ends_at = event.sealed_at, event.seal_ends_at, event.monitoring_ends_at
            b.playbook_version, b.tasks, b.out = event.playbook_version, {}, {}
            b.policy = dict(seal_days=event.seal_days, monitoring_days=event.monitoring_days,
                            max_out_minutes=event.max_out_minutes)
        case e.PlaybookStamped():
            b.tasks = {t.key: False for t in event.tasks}
        case e.PlaybookTaskCompleted():
            b.tasks[event.task_key] = True
        case e.EpisodeRescheduled():
            b.phase, b.seal_ends_at, b.monitoring_ends_at = event.phase, event.seal_ends_at, event.monitoring_ends_at
        case e.HealthMonitoringStarted():
            b.phase = "health_monitoring"
        case e.BuildingUnsealed():
            b.phase, b.out = "released", {}
        case e.GroupMemberJoined():
            b.members[event.member_id] = Member(event.kind, event.household_id, event.party)
        case e.GroupMemberLeft():
            b.members.pop(event.member_id, None)
        case e.GatePassRecorded():
            if event.direction == "out":
                b.out[event.resident_id] = event.passed_at
            else:
                b.out.pop(event.resident_id, None)
    return b


def _error(code: str, zh: str, en: str, field_name: str | None = None) -> DomainError:
    return DomainError(code, zh, en, field_name)


def _days(value: float) -> timedelta:
    return timedelta(days=value)


def set_policy(town: Town, cmd: c.SetTownPolicy, now: datetime) -> list[Event]:
    for time_text in cmd.report_times:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", time_text):
            raise _error("report_time_format", f"上报时间「{time_text}」格式应为 HH:MM", f"report time {time_text!r} must be HH:MM",
                         "report_times")
    for shift in cmd.gate_shifts:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", shift) or shift[:5] >= shift[6:]:
            raise _error("gate_shift_format", f"门岗班次「{shift}」格式应为 HH:MM-HH:MM，且开始早于结束",
                         f"gate shift {shift!r} must be HH:MM-HH:MM with the start before the end", "gate_shifts")
    wanted = dict(seal_days=cmd.seal_days, monitoring_days=cmd.monitoring_days, max_out_minutes=cmd.max_out_minutes,
                  report_times=tuple(cmd.report_times), report_window_minutes=cmd.report_window_minutes,
                  fever_threshold=cmd.fever_threshold, gate_shifts=tuple(cmd.gate_shifts))
    if town.policy and policy_of(town) == wanted:
        return []
    return [e.TownPolicySet(town=cmd.town, policy_version=town.policy_version + 1, set_by=cmd.actor, set_at=now,
                            **wanted)]


def policy_of(town: Town) -> dict:
    if town.policy is None:
        return dict(DEFAULT_POLICY)
    p = town.policy
    return dict(seal_days=p.seal_days, monitoring_days=p.monitoring_days, max_out_minutes=p.max_out_minutes,
                report_times=p.report_times, report_window_minutes=p.report_window_minutes,
                fever_threshold=p.fever_threshold, gate_shifts=p.gate_shifts)


def seal(b: Building, town: Town, playbook: e.PlaybookPublished, cmd: c.SealBuilding, now: datetime) -> list[Event]:
    if b.phase in ACTIVE:
        raise _error("already_sealed", f"{cmd.building} 号楼已在管控中（{_phase_zh(b.phase)}），不能重复封控",
                     f"building {cmd.building} is already under lockdown ({b.phase}); it cannot be sealed again",
                     "building")
    policy = policy_of(town)
    seal_ends = now + _days(policy["seal_days"])
    episode_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"louzu:episode:{cmd.command_id}"))
    sealed = e.BuildingSealed(
        episode_id=episode_id, building=cmd.building, town=cmd.town, ordered_by=cmd.ordered_by, reason=cmd.reason,
        sealed_at=now, seal_ends_at=seal_ends, monitoring_ends_at=seal_ends + _days(policy["monitoring_days"]),
        policy_version=town.policy_version, seal_days=policy["seal_days"], monitoring_days=policy["monitoring_days"],
        max_out_minutes=policy["max_out_minutes"], playbook_version=playbook.template_version)
    tasks = tuple(sorted((e.StampedTask(key=t.key, title_zh=t.title_zh, title_en=t.title_en, owner_role=t.owner_role,
                                        due_at=now + timedelta(seconds=t.due_offset_s)) for t in playbook.tasks),
                         key=lambda t: (t.due_at, t.key)))
    return [sealed, e.PlaybookStamped(episode_id=episode_id, template_version=playbook.template_version, tasks=tasks)]


def _phase_zh(phase: str | None) -> str:
    return {"sealed": "封控期", "health_monitoring": "健康监测期", "released": "已解封"}.get(phase or "", "未管控")


def _active(b: Building, building: str) -> None:
    if b.phase not in ACTIVE:
        raise _error("not_under_lockdown", f"{building} 号楼当前未在管控中", f"building {building} is not under lockdown",
                     "building")


def reschedule(b: Building, cmd: c.RescheduleEpisode, now: datetime) -> list[Event]:
    _active(b, cmd.building)
    seal_ends, monitoring_ends, phase = b.seal_ends_at, b.monitoring_ends_at, b.phase
    if cmd.kind == "reset":  # a new case: the clock starts again from now
        phase, seal_ends = "sealed", now + _days(b.policy["seal_days"])
        monitoring_ends = seal_ends + _days(b.policy["monitoring_days"])
    else:
        if cmd.days <= 0:
            raise _error("days_required", "请填写延长或缩短的天数", "give the number of days to extend or shorten", "days")
        delta = _days(cmd.days) * (1 if cmd.kind == "extend" else -1)
        if phase == "sealed":
            seal_ends += delta
        monitoring_ends += delta
        if (phase == "sealed" and seal_ends < now) or monitoring_ends < now or monitoring_ends < seal_ends:
            raise _error("shortened_into_past", "缩短后的结束时间已过，请改用解封或减少天数",
                         "shortening would end the phase in the past; release the building or shorten less", "days")
    return [e.EpisodeRescheduled(episode_id=b.episode_id, kind=cmd.kind, phase=phase, seal_ends_at=seal_ends,
                                 monitoring_ends_at=monitoring_ends, reason=cmd.reason, changed_by=cmd.actor,
                                 changed_at=now)]


def advance(b: Building, cmd: c.AdvancePhase, now: datetime) -> list[Event]:
    """Phase changes that are due by `now`; nothing if none is (or the episode is another one)."""
    if b.episode_id != cmd.episode_id or b.phase not in ACTIVE:
        return []
    events: list[Event] = []
    if b.phase == "sealed" and now >= b.seal_ends_at:
        events.append(e.HealthMonitoringStarted(episode_id=b.episode_id, started_at=b.seal_ends_at, recorded_at=now))
    if now >= b.monitoring_ends_at:
        events.append(e.BuildingUnsealed(episode_id=b.episode_id, released_at=b.monitoring_ends_at, recorded_at=now,
                                         released_by="schedule", early=False))
    return events


def release(b: Building, cmd: c.ReleaseBuilding, now: datetime) -> list[Event]:
    _active(b, cmd.building)
    early = now < b.monitoring_ends_at
    if early and not cmd.reason.strip():
        raise _error("early_release_needs_reason", "提前解封必须说明理由", "an early release needs a reason", "reason")
    return [e.BuildingUnsealed(episode_id=b.episode_id, released_at=now, recorded_at=now, released_by=cmd.actor,
                               early=early, reason=cmd.reason)]


def complete_task(b: Building, cmd: c.CompleteTask, now: datetime) -> list[Event]:
    if not b.episode_id:
        _active(b, cmd.building)
    if cmd.task_key not in b.tasks:
        raise _error("unknown_task", f"没有任务「{cmd.task_key}」", f"no task {cmd.task_key!r} in this building's playbook",
                     "task_key")
    if b.tasks[cmd.task_key]:
        return []
    return [e.PlaybookTaskCompleted(episode_id=b.episode_id, task_key=cmd.task_key, completed_by=cmd.actor,
                                    completed_at=now, note=cmd.note)]


def join_group(b: Building, cmd: c.JoinGroup, now: datetime) -> list[Event]:
    if cmd.kind == "household" and not cmd.household_id:
        raise _error("household_required", "请填写户号", "a household member needs a household id", "household_id")
    if cmd.kind == "party" and not cmd.party:
        raise _error("party_required", "请选择服务方", "a service party member needs a party", "party")
    member_id = cmd.member_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"louzu:member:{cmd.command_id}"))
    if member_id in b.members:
        return []
    return [e.GroupMemberJoined(member_id=member_id, kind=cmd.kind, household_id=cmd.household_id, party=cmd.party,
                                display_name=cmd.display_name, joined_at=now, added_by=cmd.actor)]


def leave_group(b: Building, cmd: c.LeaveGroup, now: datetime) -> list[Event]:
    if cmd.member_id not in b.members:
        raise _error("not_a_member", "该成员不在楼组群中", "no such member in the building group", "member_id")
    return [e.GroupMemberLeft(member_id=cmd.member_id, left_at=now, removed_by=cmd.actor)]


def record_gate_pass(b: Building, cmd: c.RecordGatePass, now: datetime) -> list[Event]:
    _active(b, cmd.building)
    at = cmd.passed_at or now
    if at > now + timedelta(minutes=5):
        raise _error("pass_in_future", "登记时间不能晚于现在", "a gate pass cannot be in the future", "passed_at")
    if cmd.direction == "out":
        if b.phase == "sealed" and cmd.reason.strip().lower() not in EXIT_DURING_SEAL:
            raise _error("sealed_no_exit", "封控期内居民不得外出（转运、就医除外）",
                         "during the seal residents may not go out, except for transfer or medical care", "reason")
        if cmd.resident_id in b.out:
            raise _error("already_out", "该居民已登记外出，尚未返回", "this resident is already recorded as out", "direction")
    pass_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"louzu:pass:{cmd.command_id}"))
    return [e.GatePassRecorded(episode_id=b.episode_id, pass_id=pass_id, resident_id=cmd.resident_id,
                               household_id=cmd.household_id, direction=cmd.direction, reason=cmd.reason,
                               passed_at=at, recorded_by=cmd.actor)]
