"""The roster read model: everything a building's roster sheet shows, joined from the events of all
four services — households and residents (registry), phase, group, gate, reports, testing and
transfers (lockdown), open deliveries (delivery) and the duty rota (roster).

Rows are a pure function of the events (times from payloads, never `now()`), so `louzu verify`
compares them with a rebuild, and a roster "as of" a past moment is this same projection replayed
into a scratch schema up to that moment.
"""
from __future__ import annotations

from typing import Sequence

import asyncpg

from shared.eventlog.envelope import RecordedEvent
from shared.eventlog.subjects import EVENTS_ROOT, events_filter
from shared.events import delivery as d
from shared.events import lockdown as e
from shared.events import registry as r
from shared.projections.writes import Writes
from services.roster.projections.rota_tables import ROTA_DDL, ROTA_TABLES, apply_rota

DDL = """
CREATE TABLE IF NOT EXISTS "{s}".compounds (
    tenant text NOT NULL, compound text NOT NULL, name text NOT NULL, town text NOT NULL,
    PRIMARY KEY (tenant, compound));
CREATE TABLE IF NOT EXISTS "{s}".buildings (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, cadre_name text NOT NULL DEFAULT '',
    phase text NOT NULL DEFAULT '', episode_id text, town text, sealed_at timestamptz,
    monitoring_ends_at timestamptz, PRIMARY KEY (tenant, compound, building));
CREATE TABLE IF NOT EXISTS "{s}".households (
    tenant text NOT NULL, compound text NOT NULL, household_id text NOT NULL, building text NOT NULL,
    entrance text NOT NULL, room text NOT NULL, floor int NOT NULL, PRIMARY KEY (tenant, compound, household_id));
CREATE TABLE IF NOT EXISTS "{s}".residents (
    tenant text NOT NULL, compound text NOT NULL, resident_id text NOT NULL, household_id text NOT NULL,
    name text NOT NULL, sex text NOT NULL, birth_year int NOT NULL, relation text NOT NULL, flags text[] NOT NULL,
    id_mask text NOT NULL, id_number_sealed text NOT NULL, phone_mask text NOT NULL, phone_sealed text NOT NULL,
    status text NOT NULL, transferred_to text NOT NULL DEFAULT '', PRIMARY KEY (tenant, resident_id));
CREATE TABLE IF NOT EXISTS "{s}".group_members (
    tenant text NOT NULL, compound text NOT NULL, group_key text NOT NULL, member_id text NOT NULL,
    household_id text NOT NULL, PRIMARY KEY (tenant, compound, group_key, member_id));
CREATE TABLE IF NOT EXISTS "{s}".towns (
    town text PRIMARY KEY, report_times text[] NOT NULL, gate_shifts text[] NOT NULL);
CREATE TABLE IF NOT EXISTS "{s}".reports (
    tenant text NOT NULL, resident_id text NOT NULL, window_start timestamptz NOT NULL, fever boolean NOT NULL,
    PRIMARY KEY (tenant, resident_id, window_start));
CREATE TABLE IF NOT EXISTS "{s}".rounds (
    tenant text NOT NULL, compound text NOT NULL, round_id text NOT NULL, buildings text[] NOT NULL,
    starts_at timestamptz NOT NULL, status text NOT NULL, PRIMARY KEY (tenant, round_id));
CREATE TABLE IF NOT EXISTS "{s}".samples (
    tenant text NOT NULL, round_id text NOT NULL, resident_id text NOT NULL, status text NOT NULL,
    PRIMARY KEY (tenant, round_id, resident_id));
CREATE TABLE IF NOT EXISTS "{s}".deliveries (
    tenant text NOT NULL, compound text NOT NULL, request_id text NOT NULL, household_id text NOT NULL,
    status text NOT NULL, PRIMARY KEY (tenant, request_id));
CREATE TABLE IF NOT EXISTS "{s}".out_now (
    tenant text NOT NULL, compound text NOT NULL, resident_id text NOT NULL, household_id text NOT NULL,
    since timestamptz NOT NULL, PRIMARY KEY (tenant, compound, resident_id));
""" + ROTA_DDL

INDEXES = """
CREATE INDEX IF NOT EXISTS roster_households_building ON "{s}".households (tenant, compound, building);
CREATE INDEX IF NOT EXISTS roster_residents_household ON "{s}".residents (tenant, compound, household_id);
CREATE INDEX IF NOT EXISTS roster_deliveries_household ON "{s}".deliveries (tenant, compound, household_id);
"""

OPEN_DELIVERY = ("requested", "accepted", "assigned", "picked_up", "failed")


class RosterProjection:
    tables = ("compounds", "buildings", "households", "residents", "group_members", "towns", "reports", "rounds",
              "samples", "deliveries", "out_now") + ROTA_TABLES

    def __init__(self, name: str = "roster", schema: str = "proj_roster", tenant: str = "*",
                 compound: str = "*") -> None:
        self.name, self.schema = name, schema
        self.filters = tuple(events_filter(tenant=tenant, compound=compound, service=svc)
                             for svc in ("registry", "lockdown", "delivery", "roster"))
        if tenant != "*":  # a scoped copy (as-of rosters, tests) still needs its towns' policies
            self.filters += (f"{EVENTS_ROOT}.town-*.all.lockdown.town.*",)

    def ddl(self, schema: str) -> str:
        return DDL.format(s=schema)

    def indexes(self, schema: str) -> str:
        return INDEXES.format(s=schema)

    async def apply(self, conn: asyncpg.Connection, schema: str, events: Sequence[RecordedEvent]) -> None:
        w = Writes()
        for rec in events:
            if rec.subject.service == "roster":
                apply_rota(w, schema, rec)
            elif rec.subject.service == "registry":
                _registry(w, schema, rec)
            elif rec.subject.service == "delivery":
                _delivery(w, schema, rec)
            else:
                _lockdown(w, schema, rec)
        await w.flush(conn)


def _registry(w: Writes, s: str, rec: RecordedEvent) -> None:
    ev, t, cpd = rec.event, rec.subject.tenant, rec.subject.compound
    match ev:
        case r.CompoundRegistered():
            w.add(f'INSERT INTO "{s}".compounds VALUES ($1,$2,$3,$4) ON CONFLICT (tenant, compound) '
                  'DO UPDATE SET name = EXCLUDED.name, town = EXCLUDED.town', t, cpd, ev.name, ev.town)
        case r.BuildingRegistered():
            w.add(f'INSERT INTO "{s}".buildings (tenant, compound, building) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING',
                  t, cpd, ev.building)
        case r.BuildingCadreAssigned():
            w.add(f'INSERT INTO "{s}".buildings (tenant, compound, building, cadre_name) VALUES ($1,$2,$3,$4) '
                  'ON CONFLICT (tenant, compound, building) DO UPDATE SET cadre_name = EXCLUDED.cadre_name',
                  t, cpd, ev.building, ev.cadre_name)
        case r.HouseholdRegistered():
            w.add(f'INSERT INTO "{s}".households VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING',
                  t, cpd, ev.household_id, ev.building, ev.entrance, ev.room, ev.floor)
        case r.ResidentRegistered():
            w.add(f"INSERT INTO \"{s}\".residents VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,'living','') "
                  "ON CONFLICT DO NOTHING", t, cpd, ev.resident_id, ev.household_id, ev.name, ev.sex, ev.birth_year,
                  ev.relation, list(ev.flags), ev.id_mask, ev.id_number_sealed, ev.phone_mask, ev.phone_sealed)
        case r.ResidentUpdated():
            w.add(f'UPDATE "{s}".residents SET household_id = COALESCE($3, household_id), name = COALESCE($4, name), '
                  'phone_mask = COALESCE($5, phone_mask), phone_sealed = COALESCE($6, phone_sealed), '
                  'relation = COALESCE($7, relation), flags = COALESCE($8, flags) WHERE tenant = $1 AND resident_id = $2',
                  t, ev.resident_id, ev.household_id, ev.name, ev.phone_mask, ev.phone_sealed, ev.relation,
                  list(ev.flags) if ev.flags is not None else None)
        case r.ResidentMovedOut():
            w.add(f"UPDATE \"{s}\".residents SET status = 'moved_out' WHERE tenant = $1 AND resident_id = $2",
                  t, ev.resident_id)
        case r.ResidentErased():
            w.add(f"UPDATE \"{s}\".residents SET status = 'erased', name = '', id_mask = '', id_number_sealed = '', "
                  "phone_mask = '', phone_sealed = '', relation = '', flags = '{}' "
                  "WHERE tenant = $1 AND resident_id = $2", t, ev.resident_id)


def _lockdown(w: Writes, s: str, rec: RecordedEvent) -> None:  # noqa: C901 - one case per event
    ev, t, cpd, key = rec.event, rec.subject.tenant, rec.subject.compound, rec.subject.aggregate_id
    match ev:
        case e.TownPolicySet():
            w.add(f'INSERT INTO "{s}".towns VALUES ($1,$2,$3) ON CONFLICT (town) DO UPDATE SET '
                  'report_times = EXCLUDED.report_times, gate_shifts = EXCLUDED.gate_shifts',
                  ev.town, list(ev.report_times), list(ev.gate_shifts))
        case e.BuildingSealed():
            w.add(f"INSERT INTO \"{s}\".buildings (tenant, compound, building, phase, episode_id, town, sealed_at, "
                  "monitoring_ends_at) VALUES ($1,$2,$3,'sealed',$4,$5,$6,$7) ON CONFLICT (tenant, compound, building) "
                  "DO UPDATE SET phase = 'sealed', episode_id = $4, town = $5, sealed_at = $6, monitoring_ends_at = $7",
                  t, cpd, ev.building, ev.episode_id, ev.town, ev.sealed_at, ev.monitoring_ends_at)
            _clear_out(w, s, t, cpd, ev.building)
        case e.EpisodeRescheduled():
            w.add(f'UPDATE "{s}".buildings SET phase = $3, monitoring_ends_at = $4 WHERE tenant = $1 AND episode_id = $2',
                  t, ev.episode_id, ev.phase, ev.monitoring_ends_at)
        case e.HealthMonitoringStarted():
            w.add(f"UPDATE \"{s}\".buildings SET phase = 'health_monitoring' WHERE tenant = $1 AND episode_id = $2",
                  t, ev.episode_id)
        case e.BuildingUnsealed():
            w.add(f"UPDATE \"{s}\".buildings SET phase = 'released' WHERE tenant = $1 AND episode_id = $2",
                  t, ev.episode_id)
            w.add(f'DELETE FROM "{s}".out_now o USING "{s}".buildings b, "{s}".households h WHERE b.tenant = $1 '
                  'AND b.episode_id = $2 AND h.tenant = b.tenant AND h.compound = b.compound AND h.building = b.building '
                  'AND o.tenant = h.tenant AND o.compound = h.compound AND o.household_id = h.household_id',
                  t, ev.episode_id)
        case e.GroupMemberJoined() if ev.household_id:
            w.add(f'INSERT INTO "{s}".group_members VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING',
                  t, cpd, key, ev.member_id, ev.household_id)
        case e.GroupMemberLeft():
            w.add(f'DELETE FROM "{s}".group_members WHERE tenant = $1 AND compound = $2 AND group_key = $3 '
                  'AND member_id = $4', t, cpd, key, ev.member_id)
        case e.GatePassRecorded():
            if ev.direction == "out":
                w.add(f'INSERT INTO "{s}".out_now VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING',
                      t, cpd, ev.resident_id, ev.household_id, ev.passed_at)
            else:
                w.add(f'DELETE FROM "{s}".out_now WHERE tenant = $1 AND compound = $2 AND resident_id = $3',
                      t, cpd, ev.resident_id)
        case e.ResidentReported():
            w.add(f'INSERT INTO "{s}".reports VALUES ($1,$2,$3,$4) ON CONFLICT (tenant, resident_id, window_start) '
                  'DO UPDATE SET fever = reports.fever OR EXCLUDED.fever', t, ev.resident_id, ev.window_start, ev.fever)
        case e.TestingRoundScheduled():
            w.add(f"INSERT INTO \"{s}\".rounds VALUES ($1,$2,$3,$4,$5,'open') ON CONFLICT DO NOTHING",
                  t, cpd, ev.round_id, list(ev.buildings), ev.starts_at)
        case e.TestingRoundClosed():
            w.add(f"UPDATE \"{s}\".rounds SET status = 'closed' WHERE tenant = $1 AND round_id = $2", t, ev.round_id)
        case e.ResidentSampled():
            w.add(f"INSERT INTO \"{s}\".samples VALUES ($1,$2,$3,'sampled') ON CONFLICT (tenant, round_id, resident_id) "
                  "DO UPDATE SET status = 'sampled'", t, ev.round_id, ev.resident_id)
        case e.ResidentMarkedAbsent():
            w.add(f"INSERT INTO \"{s}\".samples VALUES ($1,$2,$3,'absent') ON CONFLICT DO NOTHING",
                  t, ev.round_id, ev.resident_id)
        case e.ResidentTransferred():
            w.add(f'UPDATE "{s}".residents SET transferred_to = $3 WHERE tenant = $1 AND resident_id = $2',
                  t, ev.resident_id, ev.facility)
            w.add(f'DELETE FROM "{s}".out_now WHERE tenant = $1 AND compound = $2 AND resident_id = $3',
                  t, cpd, ev.resident_id)


def _clear_out(w: Writes, s: str, t: str, cpd: str, building: str) -> None:
    w.add(f'DELETE FROM "{s}".out_now o USING "{s}".households h WHERE o.tenant = $1 AND o.compound = $2 '
          'AND h.tenant = o.tenant AND h.compound = o.compound AND h.household_id = o.household_id AND h.building = $3',
          t, cpd, building)


def _delivery(w: Writes, s: str, rec: RecordedEvent) -> None:
    ev, t, cpd = rec.event, rec.subject.tenant, rec.subject.compound
    status = {d.DeliveryAccepted: "accepted", d.DeliveryAssigned: "assigned", d.DeliveryPickedUp: "picked_up",
              d.DeliveryDelivered: "delivered", d.DeliveryFailed: "failed", d.DeliveryRetried: "accepted",
              d.DeliveryCancelled: "cancelled"}
    if isinstance(ev, d.DeliveryRequested):
        w.add(f"INSERT INTO \"{s}\".deliveries VALUES ($1,$2,$3,$4,'requested') ON CONFLICT DO NOTHING",
              t, cpd, ev.request_id, ev.household_id)
    elif type(ev) in status:
        w.add(f'UPDATE "{s}".deliveries SET status = $3 WHERE tenant = $1 AND request_id = $2',
              t, ev.request_id, status[type(ev)])
