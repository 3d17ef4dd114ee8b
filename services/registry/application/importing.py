"""Importing a cadre's sheet: validate everything first (any error imports nothing unless told
to skip bad rows), then register buildings, households and residents through the command path.

Personal fields are sealed here, at the edge that saw them: the bus and the log only ever carry
ciphertext, masks and a blind index. Command ids are derived from the data, so re-importing the
same file (or retrying a lost reply) adds nothing.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import asyncpg

from shared.crypto import BlindIndex, KeyStore, seal
from shared.errors import Problem
from services.registry.adapters.spreadsheet import read_sheet
from services.registry.domain import identity
from services.registry.domain.importing import ImportReport, ResidentRow, clean_values, validate
from services.registry.domain.model import floor_of, household_id


class Commands(Protocol):
    """Where the importer's commands go: the registry's own handlers (or, from a tool, the bus)."""

    async def send(self, name: str, body: dict) -> dict: ...


@dataclass
class ImportOutcome:
    report: ImportReport
    imported: bool = False
    buildings_added: int = 0
    households_added: int = 0
    residents_added: int = 0
    unchanged: int = 0
    refused: list[tuple[int, Problem]] = field(default_factory=list)


def resident_id_for(index: BlindIndex, tenant: str, id_number: str) -> tuple[str, str]:
    """The blind index of the ID number, and the person's stable id derived from it."""
    hashed = index(tenant, "id_number", id_number)
    return hashed, "r" + hashed[:24]


async def registry_conflicts(conn: asyncpg.Connection, index: BlindIndex, tenant: str, compound: str,
                             rows: list[tuple[str, str]]) -> set[str]:
    """ID numbers already registered in a different household (same household = nothing to add)."""
    by_hash = {index(tenant, "id_number", identity.normalize_id_number(n)): (n, hh) for n, hh in rows if n}
    found = await conn.fetch(
        "SELECT id_hash, household_id, compound FROM proj_registry.residents "
        "WHERE tenant = $1 AND id_hash = ANY($2) AND status = 'living'", tenant, list(by_hash))
    return {identity.normalize_id_number(by_hash[r["id_hash"]][0]) for r in found
            if (r["compound"], r["household_id"]) != (compound, by_hash[r["id_hash"]][1])}


def _row_household(values: dict[str, str]) -> str:
    clean = clean_values(values)
    return household_id(clean["building"], clean["entrance"] or "1", clean["room"])


async def check_file(path: Path, conn: asyncpg.Connection, index: BlindIndex, tenant: str, compound: str) -> ImportReport:
    sheet = read_sheet(path)
    pairs = [(r.values.get("id_number", ""), _row_household(r.values)) for r in sheet.rows]
    conflicts = await registry_conflicts(conn, index, tenant, compound, pairs)
    return validate(sheet, known_id=lambda number: number in conflicts)


class Importer:
    def __init__(self, client: Commands, keys: KeyStore, index: BlindIndex, tenant: str, compound: str,
                 actor: str) -> None:
        self.client, self.keys, self.index = client, keys, index
        self.tenant, self.compound, self.actor = tenant, compound, actor

    def _base(self, command_id: str) -> dict:
        return {"command_id": command_id, "tenant": self.tenant, "compound": self.compound, "actor": self.actor}

    async def run(self, report: ImportReport, *, skip_invalid: bool = False) -> ImportOutcome:
        outcome = ImportOutcome(report)
        if not report.ok and not skip_invalid:
            return outcome
        if report.header_errors:
            return outcome
        rows = report.valid
        await self._buildings(rows, outcome)
        if outcome.refused:
            return outcome
        await self._households(rows, outcome)
        await self._residents(rows, outcome)
        outcome.imported = not outcome.refused
        return outcome

    async def _gather(self, calls: list[tuple[int, str, dict]], outcome: ImportOutcome) -> int:
        replies = await asyncio.gather(*(self.client.send(name, body) for _, name, body in calls))
        added = 0
        for (row, _, _), reply in zip(calls, replies):
            if not reply.get("ok"):
                error = reply["error"]
                outcome.refused.append((row, Problem(error["code"], error["message_zh"], error["message_en"],
                                                     error.get("field"))))
            elif reply["event_ids"] and not reply.get("duplicate"):
                added += 1
            else:
                outcome.unchanged += 1
        return added

    async def _buildings(self, rows: list[ResidentRow], outcome: ImportOutcome) -> None:
        shape: dict[str, tuple[int, int, int]] = {}
        for r in rows:
            entrances, floors, first = shape.get(r.building, (1, 1, r.row))
            entrance = int(r.entrance) if r.entrance.isdigit() else 1
            shape[r.building] = (max(entrances, entrance), max(floors, floor_of(r.room)), first)
        calls = [(first, "register_building", {**self._base(f"import:building:{self.compound}:{b}"), "building": b,
                                               "entrances": e, "floors": f})
                 for b, (e, f, first) in sorted(shape.items())]
        outcome.buildings_added = await self._gather(calls, outcome)

    async def _households(self, rows: list[ResidentRow], outcome: ImportOutcome) -> None:
        seen: dict[str, ResidentRow] = {}
        for r in rows:
            seen.setdefault(household_id(r.building, r.entrance or "1", r.room), r)
        calls = [(r.row, "register_household", {**self._base(f"import:household:{self.compound}:{hh}"),
                                                "building": r.building, "entrance": r.entrance or "1", "room": r.room})
                 for hh, r in seen.items()]
        outcome.households_added = await self._gather(calls, outcome)

    async def _residents(self, rows: list[ResidentRow], outcome: ImportOutcome) -> None:
        ids = {r.row: resident_id_for(self.index, self.tenant, r.id_number) for r in rows}
        keys = await self.keys.ensure(self.tenant, sorted({rid for _, rid in ids.values()}))
        calls = []
        for r in rows:
            hashed, rid = ids[r.row]
            hh = household_id(r.building, r.entrance or "1", r.room)
            calls.append((r.row, "register_resident", {
                **self._base(f"import:resident:{self.compound}:{rid}:{hh}"), "resident_id": rid, "household_id": hh,
                "full_name": r.name, "sex": r.sex, "birth_year": identity.birth_date_from_id(r.id_number).year,
                "id_hash": hashed, "id_number_sealed": seal(keys[rid], r.id_number, f"{self.tenant}/{rid}/id_number"),
                "id_mask": identity.mask_id(r.id_number),
                "phone_sealed": seal(keys[rid], r.phone, f"{self.tenant}/{rid}/phone") if r.phone else "",
                "phone_mask": identity.mask_phone(r.phone), "relation": r.relation, "flags": list(r.flags)}))
        outcome.residents_added = await self._gather(calls, outcome)
