"""The registry's read model: the big table (compound), medium table (building) and small table
(household) of the three-level net, kept as four tables keyed by tenant.

Rows are a pure function of the events (times come from event payloads, never `now()`),
so `louzu verify` can rebuild and compare them exactly.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import asyncpg

from shared.eventlog.envelope import RecordedEvent
from shared.eventlog.subjects import events_filter
from shared.events import registry as e

DDL = """
CREATE TABLE IF NOT EXISTS "{s}".compounds (
    tenant text NOT NULL, compound text NOT NULL, name text NOT NULL, town text NOT NULL,
    registered_at timestamptz NOT NULL, PRIMARY KEY (tenant, compound));
CREATE TABLE IF NOT EXISTS "{s}".buildings (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, entrances int, floors int,
    cadre_id text, cadre_name text, PRIMARY KEY (tenant, compound, building));
CREATE TABLE IF NOT EXISTS "{s}".households (
    tenant text NOT NULL, compound text NOT NULL, household_id text NOT NULL, building text NOT NULL,
    entrance text NOT NULL, room text NOT NULL, floor int NOT NULL, PRIMARY KEY (tenant, compound, household_id));
CREATE TABLE IF NOT EXISTS "{s}".residents (
    tenant text NOT NULL, compound text NOT NULL, resident_id text NOT NULL, household_id text,
    name text, sex text, birth_year int, relation text, flags text[], id_hash text, id_mask text,
    id_number_sealed text, phone_mask text, phone_sealed text, status text NOT NULL DEFAULT 'living',
    registered_at timestamptz, verified_at timestamptz, verified_by text, last_seq bigint NOT NULL,
    PRIMARY KEY (tenant, resident_id));
"""

INDEXES = """
CREATE INDEX IF NOT EXISTS residents_household ON "{s}".residents (tenant, compound, household_id);
CREATE INDEX IF NOT EXISTS residents_id_hash ON "{s}".residents (tenant, id_hash);
"""

RESIDENT_COLUMNS = ("tenant", "compound", "resident_id", "household_id", "name", "sex", "birth_year", "relation",
                    "flags", "id_hash", "id_mask", "id_number_sealed", "phone_mask", "phone_sealed", "status",
                    "registered_at", "verified_at", "verified_by", "last_seq")


class RegistryProjection:
    tables = ("compounds", "buildings", "households", "residents")

    def __init__(self, name: str = "registry", schema: str = "proj_registry", tenant: str = "*") -> None:
        self.name, self.schema = name, schema
        self.filters = (events_filter(tenant=tenant, service="registry"),)

    def ddl(self, schema: str) -> str:
        return DDL.format(s=schema)

    def indexes(self, schema: str) -> str:
        return INDEXES.format(s=schema)

    async def apply(self, conn: asyncpg.Connection, schema: str, events: Sequence[RecordedEvent]) -> None:
        fold = _Fold()
        for recorded in events:
            fold.add(recorded)
        await fold.write(conn, schema)


class _Fold:
    """Folds a batch in memory so each row is written once per batch."""

    def __init__(self) -> None:
        self.compounds: list[tuple] = []
        self.buildings: dict[tuple, dict] = {}
        self.households: list[tuple] = []
        self.new_residents: dict[str, dict] = {}
        self.patches: dict[str, dict] = defaultdict(dict)

    def add(self, r: RecordedEvent) -> None:
        ev, t, cpd = r.event, r.subject.tenant, r.subject.compound
        match ev:
            case e.CompoundRegistered():
                self.compounds.append((t, cpd, ev.name, ev.town, ev.registered_at))
            case e.BuildingRegistered():
                self.buildings.setdefault((t, cpd, ev.building), {}).update(entrances=ev.entrances, floors=ev.floors)
            case e.BuildingCadreAssigned():
                self.buildings.setdefault((t, cpd, ev.building), {}).update(cadre_id=ev.cadre_id, cadre_name=ev.cadre_name)
            case e.HouseholdRegistered():
                self.households.append((t, cpd, ev.household_id, ev.building, ev.entrance, ev.room, ev.floor))
            case e.ResidentRegistered():
                self.new_residents[ev.resident_id] = dict(
                    tenant=t, compound=cpd, resident_id=ev.resident_id, household_id=ev.household_id, name=ev.name,
                    sex=ev.sex, birth_year=ev.birth_year, relation=ev.relation, flags=list(ev.flags), id_hash=ev.id_hash,
                    id_mask=ev.id_mask, id_number_sealed=ev.id_number_sealed, phone_mask=ev.phone_mask,
                    phone_sealed=ev.phone_sealed, status="living", registered_at=ev.registered_at, verified_at=None,
                    verified_by=None, last_seq=r.seq)
            case e.ResidentUpdated():
                changes = {k: v for k in ("household_id", "name", "relation", "phone_mask", "phone_sealed")
                           if (v := getattr(ev, k)) is not None}
                if ev.flags is not None:
                    changes["flags"] = list(ev.flags)
                self._patch(t, ev.resident_id, r.seq, changes)
            case e.ResidentMovedOut():
                self._patch(t, ev.resident_id, r.seq, {"status": "moved_out"})
            case e.ResidentVerified():
                self._patch(t, ev.resident_id, r.seq, {"verified_at": ev.verified_at, "verified_by": ev.verified_by})
            case e.ResidentErased():
                self._patch(t, ev.resident_id, r.seq, {"status": "erased", "name": "（已删除）", "id_mask": "",
                                                       "id_number_sealed": "", "phone_mask": "", "phone_sealed": "",
                                                       "relation": "", "flags": []})

    def _patch(self, tenant: str, resident_id: str, seq: int, changes: dict) -> None:
        row = self.new_residents.get(resident_id)
        if row is not None and row["tenant"] == tenant:
            row.update(changes, last_seq=seq)
        else:
            self.patches[f"{tenant}\x1f{resident_id}"].update(changes, last_seq=seq)

    async def write(self, conn: asyncpg.Connection, s: str) -> None:
        if self.compounds:
            await conn.executemany(
                f'INSERT INTO "{s}".compounds VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING', self.compounds)
        if self.buildings:
            await conn.executemany(
                f'INSERT INTO "{s}".buildings AS b VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (tenant, compound, building) '
                'DO UPDATE SET entrances = COALESCE(EXCLUDED.entrances, b.entrances), floors = COALESCE(EXCLUDED.floors, b.floors), '
                'cadre_id = COALESCE(EXCLUDED.cadre_id, b.cadre_id), cadre_name = COALESCE(EXCLUDED.cadre_name, b.cadre_name)',
                [(*key, v.get("entrances"), v.get("floors"), v.get("cadre_id"), v.get("cadre_name"))
                 for key, v in self.buildings.items()])
        if self.households:
            await _insert_households(conn, s, self.households)
        if self.new_residents:
            await _insert_residents(conn, s, list(self.new_residents.values()))
        by_shape: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
        for key, changes in self.patches.items():  # one pipelined statement per set of changed columns
            tenant, resident_id = key.split("\x1f")
            by_shape[tuple(changes)].append((tenant, resident_id, *changes.values()))
        for cols, rows in by_shape.items():
            sets = ", ".join(f"{col} = ${i + 3}" for i, col in enumerate(cols))
            await conn.executemany(f'UPDATE "{s}".residents SET {sets} WHERE tenant = $1 AND resident_id = $2', rows)


def _unnest_insert(table: str, columns: Sequence[str], types: dict[str, str]) -> str:
    """INSERT … SELECT FROM unnest(arrays): one statement for the whole batch."""
    arrays = ", ".join(f"${i}::{types.get(c, 'text')}[]" for i, c in enumerate(columns, start=1))
    select = ", ".join(f"{c}::text[]" if types.get(c) == "flags" else c for c in columns)
    arrays = arrays.replace("::flags[]", "::text[]")
    return (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM unnest({arrays}) "
            f"AS u({', '.join(columns)}) ON CONFLICT DO NOTHING")


RESIDENT_TYPES = {"birth_year": "int", "registered_at": "timestamptz", "verified_at": "timestamptz",
                  "last_seq": "bigint", "flags": "flags"}
HOUSEHOLD_COLUMNS = ("tenant", "compound", "household_id", "building", "entrance", "room", "floor")


async def _insert_households(conn: asyncpg.Connection, s: str, rows: list[tuple]) -> None:
    columns = list(zip(*rows))
    await conn.execute(_unnest_insert(f'"{s}".households', HOUSEHOLD_COLUMNS, {"floor": "int"}), *map(list, columns))


async def _insert_residents(conn: asyncpg.Connection, s: str, rows: list[dict]) -> None:
    arrays = [[("{" + ",".join(r["flags"]) + "}") if c == "flags" else r[c] for r in rows] for c in RESIDENT_COLUMNS]
    await conn.execute(_unnest_insert(f'"{s}".residents', RESIDENT_COLUMNS, RESIDENT_TYPES), *arrays)
