"""Commands the roster service accepts over NATS request–reply (`louzu.cmd.<tenant>.roster.<name>`).

Rota commands address the compound's rota; reinforcement commands a request. The town dispatcher
sends `dispatch_reinforcement` with the asking committee's tenant and compound."""
from __future__ import annotations

from pydantic import Field

from shared.commands.base import Building, Command, Day, Ident, Name, ShiftTime, Text, Token, Town
from shared.events.roster import DispatchedPerson, Role

ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class EnrollDutyPerson(Command):
    name: str = "enroll_duty_person"
    person_id: str = Field(pattern=ID)
    person_name: Name(50)
    role: Role
    home_compound: Name(64) | None = Field(default=None, description="None: this compound")
    available_from: Day | None = None
    available_until: Day | None = None
    unavailable: tuple[Day, ...] = Field(default=(), max_length=100)


class SetDutyAvailability(Command):
    name: str = "set_duty_availability"
    person_id: Ident
    available_from: Day | None = None
    available_until: Day | None = None
    unavailable: tuple[Day, ...] = Field(default=(), max_length=100)


class WithdrawDutyPerson(Command):
    name: str = "withdraw_duty_person"
    person_id: Ident
    from_day: Day | None = Field(default=None, description="None: from today")
    reason: Text(500)


class OpenGatePost(Command):
    name: str = "open_gate_post"
    building: Building
    post_id: str | None = Field(default=None, pattern=ID, description="None: b<building>")
    start: Day | None = Field(default=None, description="None: the day the building was sealed, or today")
    end: Day | None = Field(default=None, description="None: the last day of health monitoring, or start + 13")
    shifts: tuple[ShiftTime, ...] | None = Field(default=None, max_length=6, description="None: the town policy's gate shifts")


class CloseGatePost(Command):
    name: str = "close_gate_post"
    post_id: Ident
    last_day: Day | None = Field(default=None, description="None: today")


class PlanRota(Command):
    name: str = "plan_rota"
    start: Day | None = Field(default=None, description="None: today; days before it are kept as they are")
    end: Day | None = Field(default=None, description="None: the last day of the open posts")


class SwapShift(Command):
    name: str = "swap_shift"
    post_id: Ident
    day: Day
    shift: ShiftTime | None = Field(default=None, description="None: every shift of that day")
    out_person: Ident
    in_person: Ident
    reason: Text(500)
    accept_warnings: bool = Field(default=False, description="swap even if the person gets no rest day")


class CheckInShift(Command):
    name: str = "check_in_shift"
    post_id: Ident
    day: Day
    shift: ShiftTime
    person_id: Ident


class CheckOutShift(Command):
    name: str = "check_out_shift"
    post_id: Ident
    day: Day
    shift: ShiftTime
    person_id: Ident
    handover_note: Text(1000, required=False) = ""


class SetStandby(Command):
    name: str = "set_standby"
    day: Day
    person_ids: tuple[Ident, ...] = Field(min_length=1, max_length=20)


class RequestReinforcement(Command):
    name: str = "request_reinforcement"
    request_id: str | None = Field(default=None, pattern=ID, description="None: derived from the command id")
    town: Town
    people: int = Field(ge=1, le=50)
    from_day: Day
    until_day: Day
    reason: Text(500)


class DispatchReinforcement(Command):
    name: str = "dispatch_reinforcement"
    request_id: Ident
    people: tuple[DispatchedPerson, ...] = Field(min_length=1, max_length=50)


class CloseReinforcement(Command):
    name: str = "close_reinforcement"
    request_id: Ident
    outcome: str = Field(default="withdrawn", pattern="^(filled|withdrawn)$")


class LendDutyPerson(Command):
    """Issued by the service when the town dispatches someone from this compound's pool."""

    name: str = "lend_duty_person"
    person_id: Ident
    to_tenant: Token
    to_compound: Token
    request_id: Ident
    from_day: Day
    until_day: Day


COMMANDS: dict[str, type[Command]] = {c.model_fields["name"].default: c for c in (
    EnrollDutyPerson, SetDutyAvailability, WithdrawDutyPerson, OpenGatePost, CloseGatePost, PlanRota, SwapShift,
    CheckInShift, CheckOutShift, SetStandby, RequestReinforcement, DispatchReinforcement, CloseReinforcement,
    LendDutyPerson)}
