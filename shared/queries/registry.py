"""Queries the registry answers (`louzu.qry.<tenant>.registry.<query>`): importing a cadre's sheet,
which only the registry can check — against the residents it already holds — and carry out, sealing
the personal fields itself and writing its own events."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.queries.base import Query, Reply, StoredFile

UPLOAD_SUFFIXES = ("xlsx", "csv")
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv",
                               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ImportResidents(Query):
    """Check every row of an uploaded sheet, then register its buildings, households and residents."""

    upload: StoredFile = Field(description="the sheet (.xlsx or .csv, by the object's suffix), stored for this "
                                           "committee; the registry deletes it once read")
    skip_invalid: bool = Field(default=False, description="import the good rows even if some are refused; "
                                                          "false: any refused row imports nothing")


class RowProblem(BaseModel):
    """A row (or the header) the registry refused, and what to do about it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    row: int = Field(description="the spreadsheet's row number (1: the header)")
    column: str = Field(description="the column's field name, e.g. id_number")
    code: str = Field(description="stable machine code, e.g. id_checksum, duplicate_in_file")
    message_zh: str = Field(description="what to do, in Chinese (never quotes an ID number or phone)")
    message_en: str = Field(description="what to do, in English")


class ResidentsImported(Reply):
    """What an import did (or, with errors and without skip_invalid, would not do)."""

    imported: bool = Field(description="something was imported (or was there already)")
    residents_added: int = Field(ge=0, description="residents newly registered")
    households_added: int = Field(ge=0, description="households newly registered")
    buildings_added: int = Field(ge=0, description="buildings newly registered")
    unchanged: int = Field(ge=0, description="rows already registered exactly so: nothing appended")
    errors: list[RowProblem] = Field(description="rows refused, header problems first")


QUERIES: dict[str, tuple[type[Query], type[Reply]]] = {"import_residents": (ImportResidents, ResidentsImported)}
