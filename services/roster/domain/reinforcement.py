"""A committee's request to the town for people (增援), and the town's dispatches against it."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.commands import roster as c
from shared.errors import DomainError
from shared.eventlog.envelope import Event
from shared.events import roster as e


@dataclass
class Reinforcement:
    requested: e.ReinforcementRequested | None = None
    sent: dict[str, e.DispatchedPerson] = field(default_factory=dict)
    closed: str = ""

    @property
    def still_needed(self) -> int:
        return max(0, self.requested.people - len(self.sent)) if self.requested else 0


def apply(r: Reinforcement, ev: Event) -> Reinforcement:
    match ev:
        case e.ReinforcementRequested():
            r.requested = ev
        case e.ReinforcementDispatched():
            for person in ev.people:
                r.sent[person.person_id] = person
        case e.ReinforcementClosed():
            r.closed = ev.outcome
    return r


def request_id_of(cmd: c.RequestReinforcement) -> str:
    return cmd.request_id or "rf-" + hashlib.sha256(cmd.command_id.encode()).hexdigest()[:12]


def request(r: Reinforcement, cmd: c.RequestReinforcement, today: date, now: datetime) -> list[Event]:
    if cmd.until_day < cmd.from_day:
        raise DomainError("bad_range", "结束日期早于开始日期", "the last day is before the first day", "until_day")
    if cmd.until_day < today:
        raise DomainError("in_the_past", "请求的日期已过", "the days asked for are past", "until_day")
    if r.requested:
        raise DomainError("request_exists", "该增援请求已存在", "this reinforcement request exists already", "request_id")
    return [e.ReinforcementRequested(request_id=request_id_of(cmd), town=cmd.town, people=cmd.people,
                                     from_day=cmd.from_day, until_day=cmd.until_day, reason=cmd.reason,
                                     requested_by=cmd.actor, requested_at=now)]


def _known(r: Reinforcement, request_id: str) -> e.ReinforcementRequested:
    if r.requested is None:
        raise DomainError("unknown_request", f"没有增援请求「{request_id}」", f"there is no reinforcement request {request_id}",
                          "request_id")
    return r.requested


def dispatch(r: Reinforcement, cmd: c.DispatchReinforcement, now: datetime) -> list[Event]:
    _known(r, cmd.request_id)
    if r.closed:
        raise DomainError("request_closed", "该增援请求已关闭", "this reinforcement request is closed", "request_id")
    ids = [p.person_id for p in cmd.people]
    if len(set(ids)) != len(ids):
        raise DomainError("person_repeated", "同一人被重复派出", "the same person is listed twice", "people")
    new = tuple(p for p in cmd.people if p.person_id not in r.sent)
    if not new:
        return []
    if len(new) > r.still_needed:
        raise DomainError("too_many", f"该请求只需再派 {r.still_needed} 人", f"the request needs only {r.still_needed} more",
                          "people")
    events: list[Event] = [e.ReinforcementDispatched(request_id=cmd.request_id, people=new,
                                                     dispatched_by=cmd.actor, dispatched_at=now)]
    if len(new) == r.still_needed:
        events.append(e.ReinforcementClosed(request_id=cmd.request_id, outcome="filled", closed_by=cmd.actor,
                                            closed_at=now))
    return events


def close(r: Reinforcement, cmd: c.CloseReinforcement, now: datetime) -> list[Event]:
    _known(r, cmd.request_id)
    if r.closed:
        return []
    return [e.ReinforcementClosed(request_id=cmd.request_id, outcome=cmd.outcome, closed_by=cmd.actor, closed_at=now)]
