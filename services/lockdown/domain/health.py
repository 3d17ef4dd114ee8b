"""Health in a sealed building: twice-daily temperature reports, testing rounds checked off against
the roster ("nobody missed"), pooled results, transfers and disinfection. Pure rules, no I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from shared.commands import lockdown as c
from shared.errors import DomainError
from shared.eventlog.envelope import Event
from shared.events import lockdown as e
from services.lockdown.domain.model import ACTIVE, Building
from shared.localtime import SHANGHAI



@dataclass
class Round:
    scheduled: bool = False
    closed: bool = False
    buildings: tuple[str, ...] = ()
    results: dict[str, bool] = field(default_factory=dict)


@dataclass
class Sampling:
    """One household's residents in one round: sampled or absent."""

    status: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)


def apply_round(r: Round, event: Event) -> Round:
    match event:
        case e.TestingRoundScheduled():
            r.scheduled, r.buildings = True, event.buildings
        case e.TestingRoundClosed():
            r.closed = True
        case e.TestResultRecorded():
            r.results[event.tube_id] = event.positive
    return r


def apply_sampling(s: Sampling, event: Event) -> Sampling:
    match event:
        case e.SamplingCodeBooked():
            s.codes[event.resident_id] = event.code
        case e.ResidentSampled():
            s.status[event.resident_id] = "sampled"
        case e.ResidentMarkedAbsent():
            s.status[event.resident_id] = "absent"
    return s


def _error(code: str, zh: str, en: str, field_name: str | None = None) -> DomainError:
    return DomainError(code, zh, en, field_name)


def _id(kind: str, command_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"louzu:{kind}:{command_id}"))


def report_window(now: datetime, report_times: tuple[str, ...]) -> datetime:
    """Start of the latest report window opened at or before `now` (Shanghai time), in UTC."""
    local = now.astimezone(SHANGHAI)
    starts = [datetime.combine(local.date() - timedelta(days=back), time.fromisoformat(t), SHANGHAI)
              for back in (0, 1) for t in report_times]
    return max(s for s in starts if s <= local).astimezone(timezone.utc)


def report(b: Building, policy: dict, cmd: c.ReportResident, sealed: dict[str, str], now: datetime) -> list[Event]:
    """`sealed` holds the health fields already encrypted with the resident's key."""
    if b.phase not in ACTIVE:
        raise _error("not_under_lockdown", f"{cmd.building} 号楼当前未在管控中，无需上报体温",
                     f"building {cmd.building} is not under lockdown; no report is needed", "building")
    report_id = _id("report", cmd.command_id)
    fever = cmd.temperature >= policy["fever_threshold"]
    events: list[Event] = [e.ResidentReported(
        report_id=report_id, resident_id=cmd.resident_id, household_id=cmd.household_id, building=cmd.building,
        window_start=report_window(now, tuple(policy["report_times"])), temperature_sealed=sealed["temperature"],
        symptoms_sealed=sealed.get("symptoms", ""), need_sealed=sealed.get("need", ""), has_need=bool(cmd.need.strip()),
        fever=fever, reported_by=cmd.actor, reported_at=now)]
    if fever:
        events.append(e.FeverAlertRaised(report_id=report_id, resident_id=cmd.resident_id, household_id=cmd.household_id,
                                         building=cmd.building, raised_at=now))
    return events


def call_down(starts_at: datetime, top_floor: int, floors_per_slot: int, slot_minutes: int) -> tuple[e.CallDownSlot, ...]:
    """Top floors first, `floors_per_slot` at a time, one slot every `slot_minutes` (错峰)."""
    floors = list(range(top_floor, 0, -1))
    return tuple(e.CallDownSlot(floors=tuple(sorted(floors[i:i + floors_per_slot])),
                                starts_at=starts_at + timedelta(minutes=slot_minutes * (i // floors_per_slot)))
                 for i in range(0, len(floors), floors_per_slot))


def schedule_round(r: Round, cmd: c.ScheduleTestingRound, now: datetime) -> list[Event]:
    if r.scheduled:
        raise _error("round_exists", f"检测轮次「{cmd.round_id}」已存在", f"testing round {cmd.round_id!r} already exists",
                     "round_id")
    return [e.TestingRoundScheduled(round_id=cmd.round_id, buildings=cmd.buildings, site=cmd.site,
                                    starts_at=cmd.starts_at, scheduled_by=cmd.actor, scheduled_at=now,
                                    call_down=call_down(cmd.starts_at, cmd.top_floor, cmd.floors_per_slot,
                                                        cmd.slot_minutes))]


def _open_round(r: Round, round_id: str) -> None:
    if not r.scheduled:
        raise _error("round_unknown", f"没有检测轮次「{round_id}」", f"no testing round {round_id!r}", "round_id")
    if r.closed:
        raise _error("round_closed", "该轮检测已结束", "this testing round is closed", "round_id")


def book_code(r: Round, s: Sampling, cmd: c.BookSamplingCode, now: datetime) -> list[Event]:
    _open_round(r, cmd.round_id)
    if s.codes.get(cmd.resident_id) == cmd.code:
        return []
    return [e.SamplingCodeBooked(round_id=cmd.round_id, resident_id=cmd.resident_id, household_id=cmd.household_id,
                                 code=cmd.code, booked_by=cmd.actor, booked_at=now)]


def check_off(r: Round, s: Sampling, cmd: c.CheckOffSample, now: datetime) -> list[Event]:
    """Two volunteers checking off the same resident yield one check-off and no error."""
    _open_round(r, cmd.round_id)
    if s.status.get(cmd.resident_id) == "sampled":
        return []
    return [e.ResidentSampled(round_id=cmd.round_id, resident_id=cmd.resident_id, household_id=cmd.household_id,
                              method=cmd.method, tube_id=cmd.tube_id, sampled_by=cmd.actor, sampled_at=now)]


def mark_absent(r: Round, s: Sampling, cmd: c.MarkAbsent, now: datetime) -> list[Event]:
    _open_round(r, cmd.round_id)
    if s.status.get(cmd.resident_id) == "sampled":
        raise _error("already_sampled", "该居民本轮已采样，不能标记缺席", "this resident was already sampled in this round",
                     "resident_id")
    return [e.ResidentMarkedAbsent(round_id=cmd.round_id, resident_id=cmd.resident_id, household_id=cmd.household_id,
                                   reason=cmd.reason, marked_by=cmd.actor, marked_at=now)]


def close_round(r: Round, cmd: c.CloseTestingRound, counts: dict[str, int], unaccounted: list[tuple[str, str]],
                now: datetime) -> list[Event]:
    """`unaccounted` lists (resident id, household id) of everyone neither sampled nor absent with a reason."""
    _open_round(r, cmd.round_id)
    if unaccounted and not cmd.force:
        households = "、".join(sorted({hh for _, hh in unaccounted})[:10])
        raise _error("round_not_reconciled", f"还有 {len(unaccounted)} 名居民未采样也未说明原因（{households}），请核对后再结束",
                     f"{len(unaccounted)} resident(s) neither sampled nor marked absent (households {households}); "
                     "find them, or close with force to list them as unaccounted", "round_id")
    return [e.TestingRoundClosed(round_id=cmd.round_id, sampled=counts.get("sampled", 0), absent=counts.get("absent", 0),
                                 unaccounted=tuple(rid for rid, _ in unaccounted), closed_by=cmd.actor, closed_at=now)]


def record_result(r: Round, cmd: c.RecordTestResult, now: datetime) -> list[Event]:
    if not r.scheduled:
        raise _error("round_unknown", f"没有检测轮次「{cmd.round_id}」", f"no testing round {cmd.round_id!r}", "round_id")
    known = r.results.get(cmd.tube_id)
    if known is not None:
        if known == cmd.positive:
            return []
        raise _error("result_conflict", "该管已有不同的检测结果，请核实", "this tube already has a different result; check it",
                     "positive")
    return [e.TestResultRecorded(round_id=cmd.round_id, tube_id=cmd.tube_id, positive=cmd.positive,
                                 recorded_by=cmd.actor, recorded_at=now)]


def transfer(b: Building, cmd: c.TransferResident, now: datetime) -> list[Event]:
    if b.phase not in ACTIVE:
        raise _error("not_under_lockdown", f"{cmd.building} 号楼当前未在管控中", f"building {cmd.building} is not under lockdown",
                     "building")
    return [e.ResidentTransferred(resident_id=cmd.resident_id, household_id=cmd.household_id, facility=cmd.facility,
                                  transferred_by=cmd.actor, transferred_at=now)]


def disinfect(b: Building, cmd: c.DisinfectBuilding, now: datetime) -> list[Event]:
    if b.phase not in ACTIVE:
        raise _error("not_under_lockdown", f"{cmd.building} 号楼当前未在管控中", f"building {cmd.building} is not under lockdown",
                     "building")
    return [e.BuildingDisinfected(floors=tuple(sorted(set(cmd.floors))), disinfected_by=cmd.actor, disinfected_at=now)]
