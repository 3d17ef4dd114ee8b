"""Commands the roster service accepts over NATS request–reply (`louzu.cmd.<tenant>.roster.<name>`).

Rota commands address the compound's rota; reinforcement commands a request. The town dispatcher
sends `dispatch_reinforcement` with the asking committee's tenant and compound."""
from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.commands.base import Command
from shared.events.roster import DispatchedPerson, Role

ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class EnrollDutyPerson(Command):
    name: str = "enroll_duty_person"
    person_id: str = Field(pattern=ID)
    person_name: str = Field(min_length=1, max_length=50)
    role: Role
    home_compound: str | None = Field(default=None, description="None: this compound")
    available_from: date | None = None
    available_until: date | None = None
    unavailable: tuple[date, ...] = ()


class SetDutyAvailability(Command):
    name: str = "set_duty_availability"
    person_id: str
    available_from: date | None = None
    available_until: date | None = None
    unavailable: tuple[date, ...] = ()


class WithdrawDutyPerson(Command):
    name: str = "withdraw_duty_person"
    person_id: str
    from_day: date | None = Field(default=None, description="None: from today")
    reason: str = Field(min_length=1, max_length=500)


class OpenGatePost(Command):
    name: str = "open_gate_post"
    building: str = Field(min_length=1, max_length=20)
    post_id: str | None = Field(default=None, pattern=ID, description="None: b<building>")
    start: date | None = Field(default=None, description="None: the day the building was sealed, or today")
    end: date | None = Field(default=None, description="None: the last day of health monitoring, or start + 13")
    shifts: tuple[str, ...] | None = Field(default=None, description="None: the town policy's gate shifts")


class CloseGatePost(Command):
    name: str = "close_gate_post"
    post_id: str
    last_day: date | None = Field(default=None, description="None: today")


class PlanRota(Command):
    name: str = "plan_rota"
    start: date | None = Field(default=None, description="None: today; days before it are kept as they are")
    end: date | None = Field(default=None, description="None: the last day of the open posts")


class SwapShift(Command):
    name: str = "swap_shift"
    post_id: str
    day: date
    shift: str | None = Field(default=None, description="None: every shift of that day")
    out_person: str
    in_person: str
    reason: str = Field(min_length=1, max_length=500)
    accept_warnings: bool = Field(default=False, description="swap even if the person gets no rest day")


class CheckInShift(Command):
    name: str = "check_in_shift"
    post_id: str
    day: date
    shift: str
    person_id: str


class CheckOutShift(Command):
    name: str = "check_out_shift"
    post_id: str
    day: date
    shift: str
    person_id: str
    handover_note: str = Field(default="", max_length=1000)


class SetStandby(Command):
    name: str = "set_standby"
    day: date
    person_ids: tuple[str, ...] = Field(min_length=1, max_length=20)


class RequestReinforcement(Command):
    name: str = "request_reinforcement"
    request_id: str | None = Field(default=None, pattern=ID, description="None: derived from the command id")
    town: str
    people: int = Field(ge=1, le=50)
    from_day: date
    until_day: date
    reason: str = Field(min_length=1, max_length=500)


class DispatchReinforcement(Command):
    name: str = "dispatch_reinforcement"
    request_id: str
    people: tuple[DispatchedPerson, ...] = Field(min_length=1, max_length=50)


class CloseReinforcement(Command):
    name: str = "close_reinforcement"
    request_id: str
    outcome: str = Field(default="withdrawn", pattern="^(filled|withdrawn)$")


class LendDutyPerson(Command):
    """Issued by the service when the town dispatches someone from this compound's pool."""

    name: str = "lend_duty_person"
    person_id: str
    to_tenant: str
    to_compound: str
    request_id: str
    from_day: date
    until_day: date


COMMANDS: dict[str, type[Command]] = {c.model_fields["name"].default: c for c in (
    EnrollDutyPerson, SetDutyAvailability, WithdrawDutyPerson, OpenGatePost, CloseGatePost, PlanRota, SwapShift,
    CheckInShift, CheckOutShift, SetStandby, RequestReinforcement, DispatchReinforcement, CloseReinforcement,
    LendDutyPerson)}
