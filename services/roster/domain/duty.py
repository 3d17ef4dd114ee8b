"""A compound's gate-post duty as one aggregate: the pool of people, the posts, the planned shifts,
swaps, check-ins and the standby list. `apply` folds events into `Duty`; each rule takes the state
and a command and returns the events (or raises a DomainError a cadre can act on)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from shared.commands import roster as c
from shared.errors import DomainError
from shared.eventlog.envelope import Event
from shared.events import roster as e
from services.roster.domain import rota

SHIFT = re.compile(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d")
MAX_POST_DAYS = 60


@dataclass(frozen=True)
class PersonState:
    name: str
    role: str
    home_compound: str
    available_from: date | None
    available_until: date | None
    unavailable: frozenset[date]
    withdrawn_from: date | None = None
    away: tuple[tuple[date, date], ...] = ()  # lent to another compound


@dataclass(frozen=True)
class PostState:
    building: str
    start: date
    end: date
    shifts: tuple[str, ...]


@dataclass
class Duty:
    people: dict[str, PersonState] = field(default_factory=dict)
    posts: dict[str, PostState] = field(default_factory=dict)
    shifts: dict[tuple[str, date, str], tuple[str, ...]] = field(default_factory=dict)
    checked_in: dict[tuple[str, date, str, str], bool] = field(default_factory=dict)  # → checked out yet?
    standby: dict[date, tuple[str, ...]] = field(default_factory=dict)

    def assignments(self) -> list[rota.Assignment]:
        return [rota.Assignment(p, d, s, people) for (p, d, s), people in sorted(self.shifts.items())]

    def as_person(self, person_id: str, order: int = 0) -> rota.Person:
        p = self.people[person_id]
        until = p.available_until
        if p.withdrawn_from is not None:
            last = p.withdrawn_from - timedelta(days=1)
            until = last if until is None else min(until, last)
        away = {a + timedelta(days=i) for a, b in p.away for i in range((b - a).days + 1)}
        return rota.Person(person_id, p.name, p.role, p.available_from, until, frozenset(p.unavailable | away), order)


def _drop(d: Duty, person_id: str, days) -> None:
    for key, people in list(d.shifts.items()):
        if key[1] in days and person_id in people:
            d.shifts[key] = tuple(x for x in people if x != person_id)


def apply(d: Duty, ev: Event) -> Duty:
    match ev:
        case e.DutyPersonEnrolled():
            d.people[ev.person_id] = PersonState(ev.name, ev.role, ev.home_compound, ev.available_from,
                                                 ev.available_until, frozenset(ev.unavailable))
        case e.DutyAvailabilitySet():
            d.people[ev.person_id] = replace(d.people[ev.person_id], available_from=ev.available_from,
                                             available_until=ev.available_until, unavailable=frozenset(ev.unavailable))
        case e.DutyPersonWithdrawn():
            d.people[ev.person_id] = replace(d.people[ev.person_id], withdrawn_from=ev.from_day)
            _drop(d, ev.person_id, _Since(ev.from_day))
        case e.DutyPersonLent():
            person = d.people[ev.person_id]
            d.people[ev.person_id] = replace(person, away=person.away + ((ev.from_day, ev.until_day),))
            _drop(d, ev.person_id, _Between(ev.from_day, ev.until_day))
        case e.GatePostOpened():
            d.posts[ev.post_id] = PostState(ev.building, ev.start, ev.end, tuple(ev.shifts))
        case e.GatePostClosed():
            d.posts[ev.post_id] = replace(d.posts[ev.post_id], end=ev.last_day)
            for key in [k for k in d.shifts if k[0] == ev.post_id and k[1] > ev.last_day]:
                del d.shifts[key]
        case e.RotaPlanned():
            for key in [k for k in d.shifts if ev.start <= k[1] <= ev.end]:
                del d.shifts[key]
            for s in ev.shifts:
                d.shifts[(s.post_id, s.day, s.shift)] = tuple(s.people)
        case e.ShiftSwapped():
            for shift in ev.shifts:
                key = (ev.post_id, ev.day, shift)
                d.shifts[key] = tuple(ev.in_person if x == ev.out_person else x for x in d.shifts.get(key, ()))
        case e.ShiftCheckedIn():
            d.checked_in[(ev.post_id, ev.day, ev.shift, ev.person_id)] = False
        case e.ShiftCheckedOut():
            d.checked_in[(ev.post_id, ev.day, ev.shift, ev.person_id)] = True
        case e.StandbySet():
            d.standby[ev.day] = tuple(ev.person_ids)
    return d


class _Since:
    def __init__(self, first: date) -> None:
        self.first = first

    def __contains__(self, day: date) -> bool:
        return day >= self.first


class _Between(_Since):
    def __init__(self, first: date, last: date) -> None:
        super().__init__(first)
        self.last = last

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


def _error(code: str, zh: str, en: str, field_name: str | None = None) -> DomainError:
    return DomainError(code, zh, en, field_name)


def _person(d: Duty, person_id: str, field_name: str = "person_id") -> PersonState:
    if person_id not in d.people:
        raise _error("unknown_person", f"值班人员「{person_id}」不在本小区的值班名单中",
                     f"{person_id} is not in this compound's duty pool", field_name)
    return d.people[person_id]


def _check_range(first: date | None, last: date | None, field_name: str) -> None:
    if first and last and last < first:
        raise _error("bad_range", "结束日期早于开始日期", "the last day is before the first day", field_name)


def enroll(d: Duty, cmd: c.EnrollDutyPerson, now: datetime) -> list[Event]:
    _check_range(cmd.available_from, cmd.available_until, "available_until")
    home = cmd.home_compound or cmd.compound
    known = d.people.get(cmd.person_id)
    if known and (known.name, known.role, known.home_compound, known.available_from, known.available_until,
                  known.unavailable) == (cmd.person_name, cmd.role, home, cmd.available_from, cmd.available_until,
                                         frozenset(cmd.unavailable)) and known.withdrawn_from is None:
        return []
    return [e.DutyPersonEnrolled(person_id=cmd.person_id, name=cmd.person_name, role=cmd.role, home_compound=home,
                                 available_from=cmd.available_from, available_until=cmd.available_until,
                                 unavailable=tuple(sorted(cmd.unavailable)), enrolled_by=cmd.actor, enrolled_at=now)]


def enroll_reinforcement(d: Duty, request_id: str, person: e.DispatchedPerson, first: date, last: date,
                         actor: str, now: datetime) -> list[Event]:
    if person.person_id in d.people and d.people[person.person_id].withdrawn_from is None:
        known = d.people[person.person_id]
        if known.available_from == first and known.available_until == last:
            return []
    return [e.DutyPersonEnrolled(person_id=person.person_id, name=person.name, role="reinforcement",
                                 home_compound=person.from_compound, available_from=first, available_until=last,
                                 request_id=request_id, enrolled_by=actor, enrolled_at=now)]


def set_availability(d: Duty, cmd: c.SetDutyAvailability, now: datetime) -> list[Event]:
    _person(d, cmd.person_id)
    _check_range(cmd.available_from, cmd.available_until, "available_until")
    return [e.DutyAvailabilitySet(person_id=cmd.person_id, available_from=cmd.available_from,
                                  available_until=cmd.available_until, unavailable=tuple(sorted(cmd.unavailable)),
                                  set_by=cmd.actor, set_at=now)]


def withdraw(d: Duty, cmd: c.WithdrawDutyPerson, today: date, now: datetime) -> list[Event]:
    if _person(d, cmd.person_id).withdrawn_from is not None:
        return []
    return [e.DutyPersonWithdrawn(person_id=cmd.person_id, from_day=cmd.from_day or today, reason=cmd.reason,
                                  withdrawn_by=cmd.actor, withdrawn_at=now)]


def lend(d: Duty, cmd: c.LendDutyPerson, now: datetime) -> list[Event]:
    if cmd.person_id not in d.people:
        return []  # not in this pool: nothing here to free
    if (cmd.from_day, cmd.until_day) in d.people[cmd.person_id].away:
        return []
    return [e.DutyPersonLent(person_id=cmd.person_id, to_tenant=cmd.to_tenant, to_compound=cmd.to_compound,
                             request_id=cmd.request_id, from_day=cmd.from_day, until_day=cmd.until_day,
                             lent_by=cmd.actor, lent_at=now)]


def check_shifts(shifts: tuple[str, ...]) -> None:
    for shift in shifts:
        if not SHIFT.fullmatch(shift) or shift[:5] >= shift[6:]:
            raise _error("shift_format", f"班次「{shift}」格式应为 HH:MM-HH:MM，且开始早于结束",
                         f"shift {shift!r} must be HH:MM-HH:MM with the start before the end", "shifts")
    if len(set(shifts)) != len(shifts):
        raise _error("shift_repeated", "班次重复", "a shift is listed twice", "shifts")


def open_post(d: Duty, cmd: c.OpenGatePost, post_id: str, start: date, end: date, shifts: tuple[str, ...],
              now: datetime) -> list[Event]:
    check_shifts(shifts)
    _check_range(start, end, "end")
    if (end - start).days + 1 > MAX_POST_DAYS:
        raise _error("post_too_long", f"门岗排班最长 {MAX_POST_DAYS} 天", f"a post is planned for at most {MAX_POST_DAYS} days",
                     "end")
    known = d.posts.get(post_id)
    if known == PostState(cmd.building, start, end, shifts):
        return []
    if known and known.building != cmd.building:
        raise _error("post_exists", f"门岗「{post_id}」已用于 {known.building} 号楼",
                     f"post {post_id} is already the post of building {known.building}", "post_id")
    return [e.GatePostOpened(post_id=post_id, building=cmd.building, start=start, end=end, shifts=shifts,
                             opened_by=cmd.actor, opened_at=now)]


def close_post(d: Duty, cmd: c.CloseGatePost, today: date, now: datetime) -> list[Event]:
    post = _post(d, cmd.post_id)
    last = cmd.last_day or today
    if post.end <= last:
        return []
    return [e.GatePostClosed(post_id=cmd.post_id, last_day=max(last, post.start - timedelta(days=1)),
                             closed_by=cmd.actor, closed_at=now)]


def _post(d: Duty, post_id: str) -> PostState:
    if post_id not in d.posts:
        raise _error("unknown_post", f"没有门岗「{post_id}」", f"there is no gate post {post_id}", "post_id")
    return d.posts[post_id]


def plan(d: Duty, cmd: c.PlanRota, today: date, now: datetime) -> list[Event]:
    start = cmd.start or today
    open_posts = [rota.Post(pid, p.building, max(p.start, start), p.end, p.shifts)
                  for pid, p in sorted(d.posts.items()) if p.end >= start]
    if not open_posts:
        raise _error("no_posts", "没有需要排班的门岗：请先设立门岗", "no gate post to plan: open one first", "start")
    end = cmd.end or max(p.end for p in open_posts)
    _check_range(start, end, "end")
    before = [a for a in d.assignments() if a.day < start]
    people = [d.as_person(pid, order) for order, pid in enumerate(d.people)]
    result = rota.generate(open_posts, people, start=start, end=end, **_history(before))
    shifts = tuple(e.PlannedShift(post_id=a.post_id, day=a.day, shift=a.shift, people=a.people)
                   for a in result.assignments)
    return [e.RotaPlanned(start=start, end=end, shifts=shifts, gaps=len(result.gaps), planned_by=cmd.actor,
                          planned_at=now)]


def _history(before: list[rota.Assignment]) -> dict:
    """Days each person worked before the plan, their last day and last partner: fairness and rest
    carry over from one plan to the next."""
    worked: dict[str, set[date]] = {}
    last_partner: dict[str, tuple[date, str]] = {}
    for a in before:
        for p in a.people:
            worked.setdefault(p, set()).add(a.day)
            for q in a.people:
                if q != p and (p not in last_partner or last_partner[p][0] <= a.day):
                    last_partner[p] = (a.day, q)
    return {"worked_before": {p: len(days) for p, days in worked.items()},
            "last_worked": {p: max(days) for p, days in worked.items()},
            "last_partner": {p: q for p, (_, q) in last_partner.items()}}


SWAP_PROBLEMS = {
    "not_assigned": ("「{out}」不在该班次上", "{out} is not on that shift", "out_person"),
    "unknown_person": ("「{inp}」不在值班名单中", "{inp} is not in the duty pool", "in_person"),
    "unavailable": ("「{inp}」当天不可值班", "{inp} is not available that day", "in_person"),
    "double_booked": ("「{inp}」当天已在其他门岗值班：同一人不能同时在两处", "{inp} is already on duty that day",
                      "in_person"),
    "same_person": ("换班双方是同一人", "the swap names the same person twice", "in_person"),
}


def swap(d: Duty, cmd: c.SwapShift, now: datetime) -> list[Event]:
    post = _post(d, cmd.post_id)
    if cmd.shift is not None and cmd.shift not in post.shifts:
        raise _error("unknown_shift", f"门岗没有班次「{cmd.shift}」", f"the post has no shift {cmd.shift}", "shift")
    people = {pid: d.as_person(pid) for pid in d.people}
    problems, warnings = rota.check_swap(d.assignments(), people, post_id=cmd.post_id, day=cmd.day,
                                         shift=cmd.shift, out_person=cmd.out_person, in_person=cmd.in_person)
    if problems:
        zh, en, field_name = SWAP_PROBLEMS.get(problems[0], ("无法换班", "cannot swap", None))
        raise _error(problems[0], zh.format(out=cmd.out_person, inp=cmd.in_person),
                     en.format(out=cmd.out_person, inp=cmd.in_person), field_name)
    if warnings and not cmd.accept_warnings:
        raise _error("no_rest_day", f"「{cmd.in_person}」前一天或后一天也在值班，没有休息日；确认请加 --accept-warnings",
                     f"{cmd.in_person} would work two days running; confirm with accept_warnings", "in_person")
    shifts = (cmd.shift,) if cmd.shift else tuple(s for s in post.shifts
                                                  if cmd.out_person in d.shifts.get((cmd.post_id, cmd.day, s), ()))
    return [e.ShiftSwapped(post_id=cmd.post_id, day=cmd.day, shifts=shifts, out_person=cmd.out_person,
                           in_person=cmd.in_person, reason=cmd.reason, warnings=tuple(warnings), swapped_by=cmd.actor,
                           swapped_at=now)]


def _on_shift(d: Duty, post_id: str, day: date, shift: str, person_id: str) -> None:
    _post(d, post_id)
    if person_id not in d.shifts.get((post_id, day, shift), ()):
        raise _error("not_on_shift", f"「{person_id}」不在 {day} {shift} 的班上",
                     f"{person_id} is not on the {day} {shift} shift of {post_id}", "person_id")


def check_in(d: Duty, cmd: c.CheckInShift, now: datetime) -> list[Event]:
    _on_shift(d, cmd.post_id, cmd.day, cmd.shift, cmd.person_id)
    if (cmd.post_id, cmd.day, cmd.shift, cmd.person_id) in d.checked_in:
        return []
    return [e.ShiftCheckedIn(post_id=cmd.post_id, day=cmd.day, shift=cmd.shift, person_id=cmd.person_id,
                             checked_in_at=now)]


def check_out(d: Duty, cmd: c.CheckOutShift, now: datetime) -> list[Event]:
    key = (cmd.post_id, cmd.day, cmd.shift, cmd.person_id)
    if key not in d.checked_in:
        raise _error("not_checked_in", "尚未签到，不能签退", "not checked in: cannot check out", "person_id")
    if d.checked_in[key]:
        return []
    return [e.ShiftCheckedOut(post_id=cmd.post_id, day=cmd.day, shift=cmd.shift, person_id=cmd.person_id,
                              handover_note=cmd.handover_note, checked_out_at=now)]


def set_standby(d: Duty, cmd: c.SetStandby, now: datetime) -> list[Event]:
    for pid in cmd.person_ids:
        _person(d, pid, "person_ids")
    if d.standby.get(cmd.day) == tuple(cmd.person_ids):
        return []
    return [e.StandbySet(day=cmd.day, person_ids=tuple(cmd.person_ids), set_by=cmd.actor, set_at=now)]
