"""The gateway's own read model of what the consoles and the API list and show: compounds, buildings,
households and residents (masked), episodes, playbook tasks, notices, the building group, the gate
log, temperature reports, fevers, testing rounds, supply requests and the duty rota — projected from
the `shared/events` contracts of every service into `proj_gateway_views`, never read from their
tables (docs/reads.md).

It reads every event of the log, so its checkpoint is the position a read waits for after any
command; events it does not show are skipped. Personal data is kept masked only (id_mask,
phone_mask): sealed fields never enter it. Rows are a pure function of the events (times from
payloads), so `louzu verify` compares them with a rebuild.
"""
from __future__ import annotations

from typing import Sequence

import asyncpg

from shared.eventlog.envelope import RecordedEvent
from shared.eventlog.subjects import events_filter
from shared.projections.writes import Writes
from services.gateway.projections.apply_lockdown import apply_health, apply_lockdown
from services.gateway.projections.apply_people import apply_registry
from services.gateway.projections.apply_supply import apply_delivery, apply_rota

NAME, SCHEMA = "gateway_views", "proj_gateway_views"

DDL = """
CREATE TABLE IF NOT EXISTS "{s}".compounds (
    tenant text NOT NULL, compound text NOT NULL, name text NOT NULL, town text NOT NULL,
    PRIMARY KEY (tenant, compound));
CREATE TABLE IF NOT EXISTS "{s}".towns (
    town text PRIMARY KEY, report_times text[] NOT NULL, gate_shifts text[] NOT NULL);
CREATE TABLE IF NOT EXISTS "{s}".buildings (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, cadre_id text NOT NULL DEFAULT '',
    cadre_name text NOT NULL DEFAULT '', phase text NOT NULL DEFAULT '', episode_id text,
    PRIMARY KEY (tenant, compound, building));
CREATE TABLE IF NOT EXISTS "{s}".episodes (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, building_key text NOT NULL,
    episode_id text NOT NULL, town text NOT NULL, phase text NOT NULL, reason text NOT NULL, ordered_by text NOT NULL,
    sealed_at timestamptz NOT NULL, seal_ends_at timestamptz NOT NULL, monitoring_ends_at timestamptz NOT NULL,
    released_at timestamptz, max_out_minutes int NOT NULL, PRIMARY KEY (tenant, episode_id));
CREATE TABLE IF NOT EXISTS "{s}".households (
    tenant text NOT NULL, compound text NOT NULL, household_id text NOT NULL, building text NOT NULL,
    entrance text NOT NULL, room text NOT NULL, floor int NOT NULL, PRIMARY KEY (tenant, compound, household_id));
CREATE TABLE IF NOT EXISTS "{s}".residents (
    tenant text NOT NULL, compound text NOT NULL, resident_id text NOT NULL, household_id text NOT NULL,
    name text NOT NULL, sex text NOT NULL, birth_year int NOT NULL, relation text NOT NULL, flags text[] NOT NULL,
    id_mask text NOT NULL, phone_mask text NOT NULL, status text NOT NULL, transferred_to text NOT NULL DEFAULT '',
    transferred_at timestamptz, PRIMARY KEY (tenant, resident_id));
CREATE TABLE IF NOT EXISTS "{s}".group_members (
    tenant text NOT NULL, compound text NOT NULL, building_key text NOT NULL, member_id text NOT NULL,
    kind text NOT NULL, household_id text, party text, display_name text NOT NULL, joined_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, compound, building_key, member_id));
CREATE TABLE IF NOT EXISTS "{s}".reports (
    tenant text NOT NULL, compound text NOT NULL, resident_id text NOT NULL, window_start timestamptz NOT NULL,
    fever boolean NOT NULL, PRIMARY KEY (tenant, resident_id, window_start));
CREATE TABLE IF NOT EXISTS "{s}".fever_alerts (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, resident_id text NOT NULL,
    household_id text NOT NULL, report_id text NOT NULL, raised_at timestamptz NOT NULL, PRIMARY KEY (tenant, report_id));
CREATE TABLE IF NOT EXISTS "{s}".rounds (
    tenant text NOT NULL, compound text NOT NULL, round_id text NOT NULL, buildings text[] NOT NULL, site text NOT NULL,
    starts_at timestamptz NOT NULL, status text NOT NULL, closed_at timestamptz, PRIMARY KEY (tenant, round_id));
CREATE TABLE IF NOT EXISTS "{s}".samples (
    tenant text NOT NULL, round_id text NOT NULL, resident_id text NOT NULL, household_id text NOT NULL,
    status text NOT NULL, method text, tube_id text, reason text, PRIMARY KEY (tenant, round_id, resident_id));
CREATE TABLE IF NOT EXISTS "{s}".sampling_codes (
    tenant text NOT NULL, round_id text NOT NULL, code text NOT NULL, resident_id text NOT NULL,
    household_id text NOT NULL, PRIMARY KEY (tenant, round_id, resident_id));
CREATE TABLE IF NOT EXISTS "{s}".gate_log (
    tenant text NOT NULL, compound text NOT NULL, building_key text NOT NULL, pass_id text NOT NULL,
    resident_id text NOT NULL, household_id text NOT NULL, direction text NOT NULL, reason text NOT NULL,
    passed_at timestamptz NOT NULL, recorded_by text NOT NULL, PRIMARY KEY (tenant, pass_id));
CREATE TABLE IF NOT EXISTS "{s}".out_now (
    tenant text NOT NULL, compound text NOT NULL, building_key text NOT NULL, resident_id text NOT NULL,
    household_id text NOT NULL, out_since timestamptz NOT NULL, reason text NOT NULL,
    PRIMARY KEY (tenant, compound, resident_id));
CREATE TABLE IF NOT EXISTS "{s}".tasks (
    tenant text NOT NULL, compound text NOT NULL, episode_id text NOT NULL, key text NOT NULL, title_zh text NOT NULL,
    title_en text NOT NULL, owner_role text NOT NULL, due_at timestamptz NOT NULL, completed_at timestamptz,
    completed_by text, PRIMARY KEY (tenant, episode_id, key));
CREATE TABLE IF NOT EXISTS "{s}".notices (
    tenant text NOT NULL, compound text NOT NULL, building_key text NOT NULL, episode_id text NOT NULL,
    notice_id text NOT NULL, template_key text NOT NULL, title_zh text NOT NULL, text_zh text NOT NULL,
    published_by text NOT NULL, published_at timestamptz NOT NULL, PRIMARY KEY (tenant, notice_id));
CREATE TABLE IF NOT EXISTS "{s}".requests (
    tenant text NOT NULL, compound text NOT NULL, request_id text NOT NULL, building text NOT NULL,
    household_id text NOT NULL, status text NOT NULL, items text NOT NULL, category text NOT NULL, source text NOT NULL,
    urgency text NOT NULL, vulnerable text[] NOT NULL, requested_at timestamptz NOT NULL, tier int,
    why text[] NOT NULL, why_en text[] NOT NULL, assignee_id text, assignee_kind text, attempt int NOT NULL DEFAULT 1,
    escalated_to text, updated_at timestamptz NOT NULL, PRIMARY KEY (tenant, request_id));
CREATE TABLE IF NOT EXISTS "{s}".duty_people (
    tenant text NOT NULL, compound text NOT NULL, person_id text NOT NULL, name text NOT NULL, role text NOT NULL,
    enrolled_seq bigint NOT NULL, PRIMARY KEY (tenant, compound, person_id));
CREATE TABLE IF NOT EXISTS "{s}".posts (
    tenant text NOT NULL, compound text NOT NULL, post_id text NOT NULL, building text NOT NULL,
    start_day date NOT NULL, end_day date NOT NULL, shifts text[] NOT NULL, PRIMARY KEY (tenant, compound, post_id));
CREATE TABLE IF NOT EXISTS "{s}".shifts (
    tenant text NOT NULL, compound text NOT NULL, post_id text NOT NULL, day date NOT NULL, shift text NOT NULL,
    people text[] NOT NULL, PRIMARY KEY (tenant, compound, post_id, day, shift));
CREATE TABLE IF NOT EXISTS "{s}".checkins (
    tenant text NOT NULL, compound text NOT NULL, post_id text NOT NULL, day date NOT NULL, shift text NOT NULL,
    person_id text NOT NULL, checked_in_at timestamptz NOT NULL, checked_out_at timestamptz,
    PRIMARY KEY (tenant, compound, post_id, day, shift, person_id));
CREATE TABLE IF NOT EXISTS "{s}".reinforcements (
    tenant text NOT NULL, compound text NOT NULL, request_id text NOT NULL, town text NOT NULL, people int NOT NULL,
    sent int NOT NULL DEFAULT 0, from_day date NOT NULL, until_day date NOT NULL, reason text NOT NULL,
    status text NOT NULL, requested_at timestamptz NOT NULL, PRIMARY KEY (tenant, request_id));
CREATE TABLE IF NOT EXISTS "{s}".changes (
    tenant text NOT NULL, compound text NOT NULL, last_seq bigint NOT NULL, PRIMARY KEY (tenant, compound));
"""

INDEXES = """
CREATE INDEX IF NOT EXISTS views_households_building ON "{s}".households (tenant, compound, building);
CREATE INDEX IF NOT EXISTS views_residents_household ON "{s}".residents (tenant, compound, household_id);
CREATE INDEX IF NOT EXISTS views_episodes_building ON "{s}".episodes (tenant, compound, building, sealed_at);
CREATE INDEX IF NOT EXISTS views_requests_open ON "{s}".requests (tenant, compound, status);
CREATE INDEX IF NOT EXISTS views_requests_household ON "{s}".requests (tenant, compound, household_id);
CREATE INDEX IF NOT EXISTS views_fevers_raised ON "{s}".fever_alerts (tenant, compound, raised_at);
CREATE INDEX IF NOT EXISTS views_codes_code ON "{s}".sampling_codes (tenant, round_id, code);
"""

TABLES = ("compounds", "towns", "buildings", "episodes", "households", "residents", "group_members", "reports",
          "fever_alerts", "rounds", "samples", "sampling_codes", "gate_log", "out_now", "tasks", "notices", "requests",
          "duty_people", "posts", "shifts", "checkins", "reinforcements", "changes")
SHOWN = ("registry", "lockdown", "delivery", "roster")  # the services whose events change what the consoles show


class GatewayViews:
    """Everything the gateway lists and shows, in its own schema."""

    tables = TABLES

    def __init__(self, name: str = NAME, schema: str = SCHEMA) -> None:
        self.name, self.schema = name, schema
        self.filters = (events_filter(),)  # every event: the checkpoint is a position of the whole log

    def ddl(self, schema: str) -> str:
        return DDL.format(s=schema)

    def indexes(self, schema: str) -> str:
        return INDEXES.format(s=schema)

    async def apply(self, conn: asyncpg.Connection, schema: str, events: Sequence[RecordedEvent]) -> None:
        w = Writes()
        for rec in events:
            service = rec.subject.service
            if service == "registry":
                apply_registry(w, schema, rec)
            elif service == "lockdown":
                if not apply_health(w, schema, rec):
                    apply_lockdown(w, schema, rec)
            elif service == "delivery":
                apply_delivery(w, schema, rec)
            elif service == "roster":
                apply_rota(w, schema, rec)
        changed: dict[tuple[str, str], int] = {}
        for rec in events:
            if rec.subject.service in SHOWN:
                changed[(rec.subject.tenant, rec.subject.compound)] = rec.seq
        for (tenant, compound), seq in changed.items():  # what changed where: the live town stream re-reads only that
            w.add(f'INSERT INTO "{schema}".changes VALUES ($1, $2, $3) ON CONFLICT (tenant, compound) '
                  'DO UPDATE SET last_seq = GREATEST(changes.last_seq, EXCLUDED.last_seq)', tenant, compound, seq)
        await w.flush(conn)
