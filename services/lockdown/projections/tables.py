"""The lockdown read model: episodes and their phases, playbook tasks, notices, the building group,
the gate log and who is out now — plus the households of each building, read from the registry's
events, so group coverage can name the households with nobody in the group.

Rows are a pure function of the events (times from payloads), so `louzu verify` can compare them.
"""
from __future__ import annotations

from typing import Sequence

import asyncpg
import orjson

from shared.eventlog.envelope import RecordedEvent
from shared.projections.writes import Writes
from shared.eventlog.subjects import EVENTS_ROOT, events_filter
from services.lockdown.projections.health_tables import apply_health as _apply_health
from shared.events import lockdown as e
from shared.events import registry as r

DDL = """
CREATE TABLE IF NOT EXISTS "{s}".episodes (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, episode_id text NOT NULL,
    building_number text NOT NULL, town text NOT NULL, phase text NOT NULL, reason text NOT NULL,
    ordered_by text NOT NULL, sealed_at timestamptz NOT NULL, seal_ends_at timestamptz NOT NULL,
    monitoring_ends_at timestamptz NOT NULL, monitoring_started_at timestamptz, released_at timestamptz,
    released_by text, early boolean, max_out_minutes int NOT NULL, policy_version int NOT NULL,
    playbook_version int NOT NULL, PRIMARY KEY (tenant, episode_id));
CREATE INDEX IF NOT EXISTS episodes_due ON "{s}".episodes (phase, seal_ends_at, monitoring_ends_at);
CREATE TABLE IF NOT EXISTS "{s}".episode_changes (
    tenant text NOT NULL, episode_id text NOT NULL, seq bigint NOT NULL, kind text NOT NULL, reason text NOT NULL,
    changed_by text NOT NULL, changed_at timestamptz NOT NULL, PRIMARY KEY (tenant, seq));
CREATE TABLE IF NOT EXISTS "{s}".tasks (
    tenant text NOT NULL, episode_id text NOT NULL, key text NOT NULL, title_zh text NOT NULL, title_en text NOT NULL,
    owner_role text NOT NULL, due_at timestamptz NOT NULL, completed_at timestamptz, completed_by text,
    PRIMARY KEY (tenant, episode_id, key));
CREATE TABLE IF NOT EXISTS "{s}".notices (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, episode_id text NOT NULL,
    notice_id text NOT NULL, template_key text NOT NULL, title_zh text NOT NULL, text_zh text NOT NULL,
    published_by text NOT NULL, published_at timestamptz NOT NULL, PRIMARY KEY (tenant, notice_id));
CREATE TABLE IF NOT EXISTS "{s}".group_members (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, member_id text NOT NULL, kind text NOT NULL,
    household_id text, party text, display_name text NOT NULL, joined_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, compound, building, member_id));
CREATE TABLE IF NOT EXISTS "{s}".households (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, household_id text NOT NULL,
    room text NOT NULL, floor int NOT NULL, PRIMARY KEY (tenant, compound, household_id));
CREATE TABLE IF NOT EXISTS "{s}".gate_log (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, pass_id text NOT NULL, episode_id text NOT NULL,
    resident_id text NOT NULL, household_id text NOT NULL, direction text NOT NULL, reason text NOT NULL,
    passed_at timestamptz NOT NULL, recorded_by text NOT NULL, PRIMARY KEY (tenant, pass_id));
CREATE TABLE IF NOT EXISTS "{s}".out_now (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, resident_id text NOT NULL,
    household_id text NOT NULL, out_since timestamptz NOT NULL, reason text NOT NULL,
    PRIMARY KEY (tenant, compound, building, resident_id));
CREATE TABLE IF NOT EXISTS "{s}".residents (
    tenant text NOT NULL, compound text NOT NULL, resident_id text NOT NULL, household_id text NOT NULL,
    name text NOT NULL, status text NOT NULL, PRIMARY KEY (tenant, resident_id));
CREATE INDEX IF NOT EXISTS lockdown_residents_household ON "{s}".residents (tenant, compound, household_id);
CREATE TABLE IF NOT EXISTS "{s}".cadres (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, cadre_id text NOT NULL,
    cadre_name text NOT NULL, PRIMARY KEY (tenant, compound, building));
CREATE TABLE IF NOT EXISTS "{s}".reports (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, household_id text NOT NULL,
    resident_id text NOT NULL, report_id text NOT NULL, window_start timestamptz NOT NULL, fever boolean NOT NULL,
    has_need boolean NOT NULL, temperature_sealed text NOT NULL, reported_by text NOT NULL,
    reported_at timestamptz NOT NULL, PRIMARY KEY (tenant, report_id));
CREATE INDEX IF NOT EXISTS reports_window ON "{s}".reports (tenant, compound, building, window_start);
CREATE TABLE IF NOT EXISTS "{s}".fever_alerts (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, resident_id text NOT NULL,
    household_id text NOT NULL, report_id text NOT NULL, raised_at timestamptz NOT NULL, PRIMARY KEY (tenant, report_id));
CREATE TABLE IF NOT EXISTS "{s}".rounds (
    tenant text NOT NULL, compound text NOT NULL, round_id text NOT NULL, buildings text[] NOT NULL, site text NOT NULL,
    starts_at timestamptz NOT NULL, call_down jsonb NOT NULL, status text NOT NULL, sampled int, absent int,
    unaccounted text[], closed_at timestamptz, PRIMARY KEY (tenant, round_id));
CREATE TABLE IF NOT EXISTS "{s}".sampling_codes (
    tenant text NOT NULL, round_id text NOT NULL, code text NOT NULL, resident_id text NOT NULL,
    household_id text NOT NULL, PRIMARY KEY (tenant, round_id, resident_id));
CREATE INDEX IF NOT EXISTS sampling_codes_code ON "{s}".sampling_codes (tenant, round_id, code);
CREATE TABLE IF NOT EXISTS "{s}".samples (
    tenant text NOT NULL, round_id text NOT NULL, resident_id text NOT NULL, household_id text NOT NULL,
    status text NOT NULL, method text, tube_id text, reason text, by_user text NOT NULL, at timestamptz NOT NULL,
    PRIMARY KEY (tenant, round_id, resident_id));
CREATE INDEX IF NOT EXISTS samples_tube ON "{s}".samples (tenant, round_id, tube_id);
CREATE TABLE IF NOT EXISTS "{s}".tube_results (
    tenant text NOT NULL, round_id text NOT NULL, tube_id text NOT NULL, positive boolean NOT NULL,
    recorded_at timestamptz NOT NULL, PRIMARY KEY (tenant, round_id, tube_id));
CREATE TABLE IF NOT EXISTS "{s}".transfers (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, resident_id text NOT NULL,
    household_id text NOT NULL, facility text NOT NULL, transferred_at timestamptz NOT NULL, seq bigint NOT NULL,
    PRIMARY KEY (tenant, seq));
CREATE TABLE IF NOT EXISTS "{s}".disinfections (
    tenant text NOT NULL, compound text NOT NULL, building text NOT NULL, floors int[] NOT NULL,
    disinfected_by text NOT NULL, disinfected_at timestamptz NOT NULL, seq bigint NOT NULL, PRIMARY KEY (tenant, seq));
CREATE TABLE IF NOT EXISTS "{s}".towns (
    town text PRIMARY KEY, policy_version int NOT NULL DEFAULT 0, seal_days float8, monitoring_days float8,
    max_out_minutes int, report_times text[], report_window_minutes int, fever_threshold float8,
    playbook_version int NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS "{s}".playbooks (
    town text NOT NULL, template_version int NOT NULL, tasks jsonb NOT NULL, notices jsonb NOT NULL,
    published_by text NOT NULL, published_at timestamptz NOT NULL, PRIMARY KEY (town, template_version));
"""


class LockdownProjection:
    tables = ("episodes", "episode_changes", "tasks", "notices", "group_members", "households", "gate_log", "out_now",
              "towns", "playbooks", "residents", "cadres", "reports", "fever_alerts", "rounds", "sampling_codes",
              "samples", "tube_results", "transfers", "disinfections")

    def __init__(self, name: str = "lockdown", schema: str = "proj_lockdown", tenant: str = "*") -> None:
        self.name, self.schema = name, schema
        self.filters = (events_filter(tenant=tenant, service="lockdown"), events_filter(tenant=tenant, service="registry"))
        if tenant != "*":  # a tenant-scoped copy (tests) still needs the towns its buildings use
            self.filters += (f"{EVENTS_ROOT}.town-*.all.lockdown.town.*",)

    def ddl(self, schema: str) -> str:
        return DDL.format(s=schema)

    async def apply(self, conn: asyncpg.Connection, schema: str, events: Sequence[RecordedEvent]) -> None:
        writes = Writes()
        for recorded in events:
            if not _apply_health(writes, schema, recorded):
                _apply_one(writes, schema, recorded)
        await writes.flush(conn)


def _apply_one(w: Writes, s: str, rec: RecordedEvent) -> None:
    ev, t, cpd, b = rec.event, rec.subject.tenant, rec.subject.compound, rec.subject.aggregate_id
    match ev:
        case r.HouseholdRegistered():
            w.add(f'INSERT INTO "{s}".households VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING',
                               t, cpd, ev.building, ev.household_id, ev.room, ev.floor)
        case e.TownPolicySet():
            w.add(
                f'INSERT INTO "{s}".towns (town, policy_version, seal_days, monitoring_days, max_out_minutes, report_times, '
                'report_window_minutes, fever_threshold) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (town) DO UPDATE SET '
                'policy_version = EXCLUDED.policy_version, seal_days = EXCLUDED.seal_days, '
                'monitoring_days = EXCLUDED.monitoring_days, max_out_minutes = EXCLUDED.max_out_minutes, '
                'report_times = EXCLUDED.report_times, report_window_minutes = EXCLUDED.report_window_minutes, '
                'fever_threshold = EXCLUDED.fever_threshold',
                ev.town, ev.policy_version, ev.seal_days, ev.monitoring_days, ev.max_out_minutes, list(ev.report_times),
                ev.report_window_minutes, ev.fever_threshold)
        case e.PlaybookPublished():
            w.add(f'INSERT INTO "{s}".playbooks VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING',
                               ev.town, ev.template_version, _json(ev.tasks), _json(ev.notices), ev.published_by,
                               ev.published_at)
            w.add(f'INSERT INTO "{s}".towns (town, playbook_version) VALUES ($1,$2) ON CONFLICT (town) '
                               'DO UPDATE SET playbook_version = EXCLUDED.playbook_version', ev.town, ev.template_version)
        case e.BuildingSealed():
            w.add(
                f'INSERT INTO "{s}".episodes (tenant, compound, building, episode_id, building_number, town, phase, '
                'reason, ordered_by, sealed_at, seal_ends_at, monitoring_ends_at, max_out_minutes, policy_version, '
                "playbook_version) VALUES ($1,$2,$3,$4,$5,$6,'sealed',$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT DO NOTHING",
                t, cpd, b, ev.episode_id, ev.building, ev.town, ev.reason, ev.ordered_by, ev.sealed_at, ev.seal_ends_at,
                ev.monitoring_ends_at, ev.max_out_minutes, ev.policy_version, ev.playbook_version)
            w.add(f'DELETE FROM "{s}".out_now WHERE tenant = $1 AND compound = $2 AND building = $3', t, cpd, b)
        case e.PlaybookStamped():
            w.add_many(
                f'INSERT INTO "{s}".tasks (tenant, episode_id, key, title_zh, title_en, owner_role, due_at) '
                'VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING',
                [(t, ev.episode_id, k.key, k.title_zh, k.title_en, k.owner_role, k.due_at) for k in ev.tasks])
        case e.PlaybookTaskCompleted():
            w.add(f'UPDATE "{s}".tasks SET completed_at = $4, completed_by = $5 '
                               'WHERE tenant = $1 AND episode_id = $2 AND key = $3',
                               t, ev.episode_id, ev.task_key, ev.completed_at, ev.completed_by)
        case e.EpisodeRescheduled():
            w.add(f'UPDATE "{s}".episodes SET phase = $3, seal_ends_at = $4, monitoring_ends_at = $5 '
                               'WHERE tenant = $1 AND episode_id = $2', t, ev.episode_id, ev.phase, ev.seal_ends_at,
                               ev.monitoring_ends_at)
            w.add(f'INSERT INTO "{s}".episode_changes VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING',
                               t, ev.episode_id, rec.seq, ev.kind, ev.reason, ev.changed_by, ev.changed_at)
        case e.HealthMonitoringStarted():
            w.add(f"UPDATE \"{s}\".episodes SET phase = 'health_monitoring', monitoring_started_at = $3 "
                               'WHERE tenant = $1 AND episode_id = $2', t, ev.episode_id, ev.started_at)
        case e.BuildingUnsealed():
            w.add(f"UPDATE \"{s}\".episodes SET phase = 'released', released_at = $3, released_by = $4, "
                               'early = $5 WHERE tenant = $1 AND episode_id = $2', t, ev.episode_id, ev.released_at,
                               ev.released_by, ev.early)
            w.add(f'DELETE FROM "{s}".out_now WHERE tenant = $1 AND compound = $2 AND building = $3', t, cpd, b)
        case e.NoticePublished():
            w.add(f'INSERT INTO "{s}".notices VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING',
                               t, cpd, b, ev.episode_id, ev.notice_id, ev.template_key, ev.title_zh, ev.text_zh,
                               ev.published_by, ev.published_at)
        case e.GroupMemberJoined():
            w.add(f'INSERT INTO "{s}".group_members VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING',
                               t, cpd, b, ev.member_id, ev.kind, ev.household_id, ev.party, ev.display_name, ev.joined_at)
        case e.GroupMemberLeft():
            w.add(f'DELETE FROM "{s}".group_members WHERE tenant = $1 AND compound = $2 AND building = $3 '
                               'AND member_id = $4', t, cpd, b, ev.member_id)
        case e.GatePassRecorded():
            w.add(f'INSERT INTO "{s}".gate_log VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING',
                               t, cpd, b, ev.pass_id, ev.episode_id, ev.resident_id, ev.household_id, ev.direction,
                               ev.reason, ev.passed_at, ev.recorded_by)
            if ev.direction == "out":
                w.add(f'INSERT INTO "{s}".out_now VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING',
                                   t, cpd, b, ev.resident_id, ev.household_id, ev.passed_at, ev.reason)
            else:
                w.add(f'DELETE FROM "{s}".out_now WHERE tenant = $1 AND compound = $2 AND building = $3 '
                                   'AND resident_id = $4', t, cpd, b, ev.resident_id)


def _json(models) -> str:
    return orjson.dumps([m.model_dump(mode="json") for m in models]).decode()
