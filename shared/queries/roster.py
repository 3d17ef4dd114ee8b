"""Queries the roster service answers (`louzu.qry.<tenant>.roster.<query>`): printing a roster,
which only the roster service can do — it owns the read model, the as-of replay from the log, the
personal-data keys' use for a print in clear, and the printer processes."""
from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from shared.queries.base import Query, Reply, StoredFile

Format = Literal["pdf", "xlsx", "csv"]
MEDIA_TYPES: dict[str, str] = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
                               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class PrintRoster(Query):
    """Print one building's roster (楼组表), or every building's of the compound in one file."""

    building: str | None = Field(default=None, min_length=1, max_length=64,
                                 description="building number; None: the whole compound")
    format: Format = Field(description="pdf (A4, Chinese, a QR code per building), xlsx or csv")
    as_of: AwareDatetime | None = Field(default=None, description="as the log stood then (audits); None: now. "
                                                             "With a time zone; not in the future")
    clear_reason: str | None = Field(default=None, min_length=1, max_length=500,
                                     description="set: ID numbers and phones in clear, written to the personal "
                                                 "data access log with this reason before anything is decrypted; "
                                                 "None: masked")


class RosterPrinted(Reply):
    """The roster was printed into the files bucket."""

    file: StoredFile = Field(description="the printed file; the asker fetches and deletes it")


QUERIES: dict[str, tuple[type[Query], type[Reply]]] = {"print_roster": (PrintRoster, RosterPrinted)}
