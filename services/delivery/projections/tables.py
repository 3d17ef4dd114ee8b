"""The delivery read model: requests with their state and holder, group purchases and orders —
plus what the queue needs from other services' events: households (floor, entrance, for walking
order) and vulnerability flags from the registry, and each building's phase from the lockdown
service. Rows are a pure function of the events."""
from __future__ import annotations

from typing import Sequence

import asyncpg

from shared.eventlog.envelope import RecordedEvent
from shared.eventlog.subjects import events_filter
from shared.events import delivery as d
from shared.events import lockdown as lk
from shared.events import registry as r
from shared.projections.writes import Writes

DDL = """
CREATE TABLE IF NOT EXISTS "{s}".requests (
    tenant text NOT NULL, compound text NOT NULL, request_id text NOT NULL, building text NOT NULL,
    household_id text NOT NULL, status text NOT NULL, items text NOT NULL, category text NOT NULL, source text NOT NULL,
    urgency text NOT NULL, vulnerable text[] NOT NULL, requested_at timestamptz NOT NULL, assignee_id text,
    assignee_kind text, attempt int NOT NULL DEFAULT 1, escalated_to text, updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, request_id));
CREATE INDEX IF NOT EXISTS requests_open ON "{s}".requests (tenant, compound, status);
CREATE TABLE IF NOT EXISTS "{s}".households (
    tenant text NOT NULL, compound text NOT NULL, household_id text NOT NULL, building text NOT NULL,
    entrance text NOT NULL, room text NOT NULL, floor int NOT NULL, PRIMARY KEY (tenant, compound, household_id));
CREATE TABLE IF NOT EXISTS "{s}".resident_flags (
    tenant text NOT NULL, compound text NOT NULL, resident_id text NOT NULL, household_id text NOT NULL,
    flags text[] NOT NULL, living boolean NOT NULL, PRIMARY KEY (tenant, resident_id));
CREATE INDEX IF NOT EXISTS resident_flags_household ON "{s}".resident_flags (tenant, compound, household_id);
CREATE TABLE IF NOT EXISTS "{s}".building_phase (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, phase text NOT NULL,
    PRIMARY KEY (tenant, compound, building));
CREATE TABLE IF NOT EXISTS "{s}".cadres (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, cadre_id text NOT NULL,
    PRIMARY KEY (tenant, compound, building));
CREATE TABLE IF NOT EXISTS "{s}".purchases (
    tenant text NOT NULL, compound text NOT NULL, purchase_id text NOT NULL, scope text NOT NULL, building text,
    supplier text NOT NULL, offer text NOT NULL, unit_price_fen int NOT NULL, delivery_due date NOT NULL,
    status text NOT NULL, PRIMARY KEY (tenant, purchase_id));
CREATE TABLE IF NOT EXISTS "{s}".purchase_orders (
    tenant text NOT NULL, purchase_id text NOT NULL, household_id text NOT NULL, building text NOT NULL,
    quantity int NOT NULL, PRIMARY KEY (tenant, purchase_id, household_id));
"""

UPDATE = 'UPDATE "{s}".requests SET {sets}, updated_at = $3 WHERE tenant = $1 AND request_id = $2'


class DeliveryProjection:
    tables = ("requests", "households", "resident_flags", "building_phase", "cadres", "purchases", "purchase_orders")

    def __init__(self, name: str = "delivery", schema: str = "proj_delivery", tenant: str = "*") -> None:
        self.name, self.schema = name, schema
        self.filters = (events_filter(tenant=tenant, service="delivery"), events_filter(tenant=tenant, service="registry"),
                        events_filter(tenant=tenant, service="lockdown"))

    def ddl(self, schema: str) -> str:
        return DDL.format(s=schema)

    async def apply(self, conn: asyncpg.Connection, schema: str, events: Sequence[RecordedEvent]) -> None:
        writes = Writes()
        for recorded in events:
            _apply(writes, schema, recorded)
        await writes.flush(conn)


def _set(w: Writes, s: str, t: str, rid: str, at, **columns) -> None:
    sets = ", ".join(f"{k} = ${i + 4}" for i, k in enumerate(columns))
    w.add(UPDATE.format(s=s, sets=sets), t, rid, at, *columns.values())


def _apply(w: Writes, s: str, rec: RecordedEvent) -> None:  # noqa: C901 - one case per event
    ev, t, cpd = rec.event, rec.subject.tenant, rec.subject.compound
    match ev:
        case d.DeliveryRequested():
            w.add(f'INSERT INTO "{s}".requests (tenant, compound, request_id, building, household_id, status, items, '
                  "category, source, urgency, vulnerable, requested_at, updated_at) VALUES "
                  "($1,$2,$3,$4,$5,'requested',$6,$7,$8,$9,$10,$11,$11) ON CONFLICT DO NOTHING",
                  t, cpd, ev.request_id, ev.building, ev.household_id, ev.items, ev.category, ev.source, ev.urgency,
                  list(ev.vulnerable), ev.requested_at)
        case d.DeliveryAccepted():
            _set(w, s, t, ev.request_id, ev.accepted_at, status="accepted")
        case d.DeliveryAssigned():
            _set(w, s, t, ev.request_id, ev.assigned_at, status="assigned", assignee_id=ev.assignee_id,
                 assignee_kind=ev.assignee_kind)
        case d.DeliveryPickedUp():
            _set(w, s, t, ev.request_id, ev.picked_up_at, status="picked_up")
        case d.DeliveryDelivered():
            _set(w, s, t, ev.request_id, ev.delivered_at, status="delivered")
        case d.DeliveryFailed():
            _set(w, s, t, ev.request_id, ev.failed_at, status="failed")
        case d.DeliveryRetried():
            _set(w, s, t, ev.request_id, ev.retried_at, status="accepted", attempt=ev.attempt, assignee_id=None,
                 assignee_kind=None)
        case d.DeliveryCancelled():
            _set(w, s, t, ev.request_id, ev.cancelled_at, status="cancelled")
        case d.DeliveryEscalated():
            _set(w, s, t, ev.request_id, ev.escalated_at, escalated_to=ev.to_cadre_id)
        case d.GroupPurchaseOpened():
            w.add(f"INSERT INTO \"{s}\".purchases VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'open') ON CONFLICT DO NOTHING",
                  t, cpd, ev.purchase_id, ev.scope, ev.building, ev.supplier, ev.offer, ev.unit_price_fen, ev.delivery_due)
        case d.GroupPurchaseOrdered():
            w.add(f'INSERT INTO "{s}".purchase_orders VALUES ($1,$2,$3,$4,$5) ON CONFLICT (tenant, purchase_id, '
                  'household_id) DO UPDATE SET quantity = EXCLUDED.quantity', t, ev.purchase_id, ev.household_id,
                  ev.building, ev.quantity)
        case d.GroupPurchaseOrderCancelled():
            w.add(f'DELETE FROM "{s}".purchase_orders WHERE tenant = $1 AND purchase_id = $2 AND household_id = $3',
                  t, ev.purchase_id, ev.household_id)
        case d.GroupPurchaseClosed() | d.GroupPurchaseArrived():
            status = "closed" if isinstance(ev, d.GroupPurchaseClosed) else "arrived"
            w.add(f'UPDATE "{s}".purchases SET status = $3 WHERE tenant = $1 AND purchase_id = $2', t, ev.purchase_id,
                  status)
        case r.HouseholdRegistered():
            w.add(f'INSERT INTO "{s}".households VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING',
                  t, cpd, ev.household_id, ev.building, ev.entrance, ev.room, ev.floor)
        case r.ResidentRegistered():
            w.add(f'INSERT INTO "{s}".resident_flags VALUES ($1,$2,$3,$4,$5,true) ON CONFLICT DO NOTHING',
                  t, cpd, ev.resident_id, ev.household_id, list(ev.flags))
        case r.ResidentUpdated() if ev.flags is not None or ev.household_id:
            w.add(f'UPDATE "{s}".resident_flags SET flags = COALESCE($3, flags), household_id = COALESCE($4, household_id) '
                  'WHERE tenant = $1 AND resident_id = $2', t, ev.resident_id,
                  list(ev.flags) if ev.flags is not None else None, ev.household_id)
        case r.ResidentMovedOut() | r.ResidentErased():
            w.add(f'UPDATE "{s}".resident_flags SET living = false WHERE tenant = $1 AND resident_id = $2',
                  t, ev.resident_id)
        case r.BuildingCadreAssigned():
            w.add(f'INSERT INTO "{s}".cadres VALUES ($1,$2,$3,$4) ON CONFLICT (tenant, compound, building) '
                  'DO UPDATE SET cadre_id = EXCLUDED.cadre_id', t, cpd, ev.building, ev.cadre_id)
        case lk.BuildingSealed() | lk.HealthMonitoringStarted() | lk.BuildingUnsealed() | lk.EpisodeRescheduled():
            phase = {lk.BuildingSealed: "sealed", lk.HealthMonitoringStarted: "health_monitoring",
                     lk.BuildingUnsealed: "released"}.get(type(ev)) or ev.phase
            w.add(f'INSERT INTO "{s}".building_phase VALUES ($1,$2,$3,$4) ON CONFLICT (tenant, compound, building) '
                  'DO UPDATE SET phase = EXCLUDED.phase', t, cpd, rec.subject.aggregate_id, phase)
