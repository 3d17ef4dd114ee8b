"""What every command carries (an idempotency key, the tenant and compound, who issued it) and
the field types every command's fields are made of, so that each limit is written once: the HTTP
API's bodies and the services' validation are both these models."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

TOKEN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
IDENT = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
LABEL = r"^[^\s/\\<>]{1,64}$"  # building numbers, household ids: may be Chinese (三号楼), never blank or a path

Token = Annotated[str, Field(min_length=1, max_length=64, pattern=TOKEN,
                             description="a-z, 0-9, '_' or '-', 1–64 characters")]
TOWN = r"^[a-z0-9][a-z0-9_-]{0,57}$"  # leaves room for the tenant town-<town> of its commands
Town = Annotated[str, Field(min_length=1, max_length=58, pattern=TOWN,
                            description="town id, e.g. taopu (its commands go under the tenant town-<town>)")]
RoundId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_]{0,31}$",
                               description="testing round id, e.g. r0322")]
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=IDENT,
                             description="an id: letters, digits, '_', '.', ':' or '-', 1–64 characters")]
Building = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[^\s/\\<>]{1,20}$",
                                description="building number as the compound writes it, e.g. 38")]
Household = Annotated[str, Field(min_length=1, max_length=64, pattern=LABEL,
                                 description="household id: building-entrance-room, e.g. 38-1-302")]


def _name_pattern(length: int) -> str:
    return rf"^\S(.{{0,{length - 2}}}\S)?$"


def Name(length: int = 64) -> object:  # noqa: N802 - a type, spelled like one
    """A person's or place's name: no leading or trailing blank, at most `length` characters."""
    return Annotated[str, Field(min_length=1, max_length=length, pattern=_name_pattern(length))]


def Text(length: int = 500, required: bool = True) -> object:  # noqa: N802
    """Free text (a reason, a note): at most `length` characters; required text is not blank."""
    if required:
        return Annotated[str, Field(min_length=1, max_length=length, pattern=r"\S")]
    return Annotated[str, Field(max_length=length)]


EARLIEST, LATEST = 2000, 2100


def _in_range(value):
    if not EARLIEST <= value.year <= LATEST:
        raise ValueError(f"year must be between {EARLIEST} and {LATEST}")
    return value


Moment = Annotated[datetime, AfterValidator(_in_range), Field(description="ISO 8601 date and time with offset")]
Day = Annotated[date, AfterValidator(_in_range), Field(description="ISO 8601 date")]
ShiftTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
                                 description="a shift, Shanghai time, HH:MM-HH:MM")]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Shanghai time, HH:MM")]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = ""
    command_id: str = Field(min_length=8, max_length=200, description="idempotency key: a retry sends the same id")
    tenant: Token = Field(description="residents' committee")
    compound: Token = Field(description="compound id")
    actor: str = Field(min_length=1, max_length=200, description="user id of whoever issued the command")
    correlation_id: str | None = Field(default=None, max_length=200)
