"""Gate-post duty rota (门岗值班): pairs of volunteers, one day on, one day off. Pure and deterministic:
standard library only, no I/O; the same input always gives the same Plan.

`generate` plans each post on every day of [start, end] ∩ [post.start, post.end], day by day in date order:

* One pair per (post, day): the same two people work every shift of that post that day.
* Never two places at once: a person is on at most one post a day.
* One day on, one day off (hard): nobody works two days running; `last_worked` (the last day before
  `start`) and kept days count. When too few people are left, the (post, day) gets fewer than two people and
  a Gap per shift — a gap, never a broken rule.
* Availability: available_from..available_until (both inclusive), and not on an `unavailable` day.
* Fairness: a pick takes the eligible person with the fewest days worked (worked_before + kept days + days
  planned so far), then the one rested longest (earliest last day worked before that day; never = longest),
  then the lowest `order`, then person_id.
* Stable pairs: the partner is the first person's previous partner (from this plan, kept assignments or
  `last_partner`) when eligible that day, otherwise the next fairest eligible person.
* Several posts on one day are filled round-robin in post_id order: first every post gets its first person,
  then every post gets its partner, so a short day leaves each post one person before any post gets two.
  A first pick avoids, where it can, someone who is the previous partner of an earlier post's first person,
  and a partner pick avoids the previous partner of a later post's first person: pairs stay together.
* `kept` assignments are fixed. Those on days in [start, end] are in the plan as they are; a kept day (any
  date) makes that person busy that day and counts for rest, fairness and partners (kept days before
  `start` count in addition to `worked_before`). A (post, day) with a kept shift is not re-planned: its other
  shifts get the people of its first kept shift.
* Every shift in the plan with fewer than two people is a Gap (see `coverage_gaps`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

PAIR = 2
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Person:
    person_id: str
    name: str
    role: str
    available_from: date | None = None  # None: open-ended
    available_until: date | None = None  # inclusive
    unavailable: frozenset[date] = frozenset()
    order: int = 0  # enrolment order, the last tie-breaker

    def available_on(self, day: date) -> bool:
        return ((self.available_from is None or self.available_from <= day)
                and (self.available_until is None or day <= self.available_until) and day not in self.unavailable)


@dataclass(frozen=True)
class Post:
    post_id: str
    building: str
    start: date
    end: date  # inclusive
    shifts: tuple[str, ...]  # e.g. ("08:30-12:30", "13:00-17:00")

    def days(self) -> list[date]:
        return [self.start + i * ONE_DAY for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class Assignment:
    post_id: str
    day: date
    shift: str
    people: tuple[str, ...]  # person ids, 0..2 of them


@dataclass(frozen=True)
class Gap:
    post_id: str
    day: date
    shift: str
    have: int  # 0 or 1
    need: int = PAIR


@dataclass(frozen=True)
class Plan:
    assignments: tuple[Assignment, ...]  # sorted by (day, post_id, shift order)
    gaps: tuple[Gap, ...]

    def days_worked(self) -> dict[str, int]:
        days: dict[str, set[date]] = {}
        for a in self.assignments:
            for p in a.people:
                days.setdefault(p, set()).add(a.day)
        return {p: len(d) for p, d in sorted(days.items())}

    def on(self, day: date) -> dict[str, str]:
        return {p: a.post_id for a in self.assignments if a.day == day for p in a.people}


class _Ledger:
    """Who works which day and with whom: what availability, rest, fairness and pairing look at."""

    def __init__(self, people: Sequence[Person], worked_before: Mapping[str, int], last_worked: Mapping[str, date],
                 last_partner: Mapping[str, str]):
        self.people = sorted(people, key=lambda p: (p.order, p.person_id))
        self.by_id = {p.person_id: p for p in self.people}
        self.before = dict(worked_before)
        self.partner = dict(last_partner)
        self.worked: dict[str, set[date]] = {}  # kept and planned days
        self.rest: dict[str, set[date]] = {p: {d} for p, d in last_worked.items()}  # ... and last_worked

    def work(self, people: Sequence[str], day: date) -> None:
        for p in people:
            self.worked.setdefault(p, set()).add(day)
            self.rest.setdefault(p, set()).add(day)

    def pair_up(self, assignments: Sequence[Assignment]) -> None:
        for a in assignments:
            if len(a.people) >= PAIR:
                self.partner[a.people[0]], self.partner[a.people[1]] = a.people[1], a.people[0]

    def eligible(self, pid: str | None, day: date, taken: set[str]) -> bool:
        person = self.by_id.get(pid or "")
        return (person is not None and pid not in taken and person.available_on(day)
                and not self.rest.get(pid, set()) & {day - ONE_DAY, day, day + ONE_DAY})

    def fairest(self, day: date, taken: set[str], avoid: set[str | None]) -> str | None:
        def key(p: Person):
            last = max((d for d in self.rest.get(p.person_id, ()) if d < day), default=date.min)
            days = self.before.get(p.person_id, 0) + len(self.worked.get(p.person_id, ()))
            return p.person_id in avoid, days, last, p.order, p.person_id
        candidates = [p for p in self.people if self.eligible(p.person_id, day, taken)]
        return min(candidates, key=key).person_id if candidates else None

    def pairs(self, post_ids: Sequence[str], day: date) -> dict[str, list[str]]:
        """Round-robin: each post's first person in post_id order, then each post's partner."""
        picked: dict[str, list[str]] = {post_id: [] for post_id in post_ids}
        taken: set[str] = set()
        for post_id in post_ids:
            avoid = {self.partner.get(pair[0]) for pair in picked.values() if pair}
            if first := self.fairest(day, taken, avoid):
                picked[post_id].append(first)
                taken.add(first)
        for post_id in post_ids:
            if not (pair := picked[post_id]):
                continue
            mate = self.partner.get(pair[0])
            if not self.eligible(mate, day, taken):
                avoid = {self.partner.get(other[0]) for other in picked.values() if len(other) == 1}
                mate = self.fairest(day, taken, avoid)
            if mate:
                pair.append(mate)
                taken.add(mate)
        return picked


def generate(posts: Sequence[Post], people: Sequence[Person], *, start: date, end: date,
             kept: Sequence[Assignment] = (), worked_before: Mapping[str, int] = {},
             last_worked: Mapping[str, date] = {}, last_partner: Mapping[str, str] = {}) -> Plan:
    ledger = _Ledger(people, worked_before, last_worked, last_partner)
    for a in kept:
        ledger.work(a.people, a.day)
    ledger.pair_up(sorted((a for a in kept if a.day < start), key=lambda a: a.day))
    kept_in = [a for a in kept if start <= a.day <= end]
    planned: list[Assignment] = []
    posts = sorted(posts, key=lambda p: p.post_id)
    for day in (start + i * ONE_DAY for i in range((end - start).days + 1)):
        today = [p for p in posts if p.start <= day <= p.end]
        kept_today = [a for a in kept_in if a.day == day]
        pinned = {p.post_id: _first_kept(p, kept_today) for p in today if p.post_id in {a.post_id for a in kept_today}}
        pairs = {**ledger.pairs([p.post_id for p in today if p.post_id not in pinned], day), **pinned}
        fixed = {(a.post_id, a.shift) for a in kept_today}
        new = [Assignment(p.post_id, day, s, tuple(pairs[p.post_id]))
               for p in today for s in p.shifts if (p.post_id, s) not in fixed]
        for a in new:
            ledger.work(a.people, day)
        ledger.pair_up(kept_today + new)
        planned += new
    shifts = {p.post_id: p.shifts for p in posts}
    ordered = sorted(kept_in + planned,
                     key=lambda a: (a.day, a.post_id, _shift_rank(shifts.get(a.post_id, ()), a.shift)))
    return Plan(tuple(ordered), tuple(coverage_gaps(ordered)))


def _first_kept(post: Post, kept_today: Sequence[Assignment]) -> tuple[str, ...]:
    """The people of the post's first kept shift that day: they cover its other shifts too."""
    mine = [a for a in kept_today if a.post_id == post.post_id]
    return min(mine, key=lambda a: _shift_rank(post.shifts, a.shift)).people


def _shift_rank(shifts: tuple[str, ...], shift: str) -> tuple[int, str]:
    return (shifts.index(shift) if shift in shifts else len(shifts)), shift


def coverage_gaps(assignments: Sequence[Assignment]) -> list[Gap]:
    """Every assignment with fewer than two people."""
    return [Gap(a.post_id, a.day, a.shift, len(a.people)) for a in assignments if len(a.people) < PAIR]


def check_swap(plan_assignments: Sequence[Assignment], people: Mapping[str, Person], *, post_id: str, day: date,
               shift: str | None, out_person: str, in_person: str) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a manual swap of `out_person` for `in_person` on `post_id` that day — one
    shift, or (shift None) every shift `out_person` is on. Problems forbid it: same_person, not_assigned,
    unknown_person, unavailable, double_booked (in_person on another post that day, or already on a
    swapped shift). Rest is a cadre's call: working the day before or after is the warning no_rest_day."""
    if out_person == in_person:
        return ["same_person"], []
    that_day = [a for a in plan_assignments if a.day == day]
    targets = [a for a in that_day if a.post_id == post_id and shift in (None, a.shift) and out_person in a.people]
    person = people.get(in_person)
    problems = ["not_assigned"] * (not targets) + ["unknown_person"] * (person is None)
    if person is not None and not person.available_on(day):
        problems.append("unavailable")
    if any(in_person in a.people and (a.post_id != post_id or a in targets) for a in that_day):
        problems.append("double_booked")
    near = any(in_person in a.people and abs((a.day - day).days) == 1 for a in plan_assignments)
    return problems, ["no_rest_day"] * near
