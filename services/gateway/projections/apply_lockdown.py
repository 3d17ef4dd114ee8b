"""The lockdown service's events in the gateway's read model: town policies, episodes and each
building's phase, playbook tasks, notices, the building group, the gate log and who is out now
(`apply_lockdown`); temperature reports, fever alerts, testing rounds, sampling codes, samples and
transfers (`apply_health`). Temperatures stay sealed in the log: only the owner's `fever` verdict
is kept. A building aggregate's id is the building number's subject token (`building_key`)."""
from __future__ import annotations

from shared.eventlog.envelope import RecordedEvent
from shared.events import lockdown as e
from shared.projections.writes import Writes


def apply_lockdown(w: Writes, s: str, rec: RecordedEvent) -> None:  # noqa: C901 - one case per event
    ev, t, cpd, key = rec.event, rec.subject.tenant, rec.subject.compound, rec.subject.aggregate_id
    match ev:
        case e.TownPolicySet():
            w.add(f'INSERT INTO "{s}".towns VALUES ($1,$2,$3) ON CONFLICT (town) DO UPDATE SET '
                  'report_times = EXCLUDED.report_times, gate_shifts = EXCLUDED.gate_shifts',
                  ev.town, list(ev.report_times), list(ev.gate_shifts))
        case e.BuildingSealed():
            w.add(f"INSERT INTO \"{s}\".episodes VALUES ($1,$2,$3,$4,$5,$6,'sealed',$7,$8,$9,$10,$11,NULL,$12) "
                  "ON CONFLICT DO NOTHING", t, cpd, ev.building, key, ev.episode_id, ev.town, ev.reason, ev.ordered_by,
                  ev.sealed_at, ev.seal_ends_at, ev.monitoring_ends_at, ev.max_out_minutes)
            w.add(f"INSERT INTO \"{s}\".buildings (tenant, compound, building, phase, episode_id) "
                  "VALUES ($1,$2,$3,'sealed',$4) ON CONFLICT (tenant, compound, building) "
                  "DO UPDATE SET phase = 'sealed', episode_id = EXCLUDED.episode_id", t, cpd, ev.building, ev.episode_id)
            w.add(f'DELETE FROM "{s}".out_now WHERE tenant = $1 AND compound = $2 AND building_key = $3', t, cpd, key)
        case e.EpisodeRescheduled():
            w.add(f'UPDATE "{s}".episodes SET phase = $3, seal_ends_at = $4, monitoring_ends_at = $5 '
                  'WHERE tenant = $1 AND episode_id = $2', t, ev.episode_id, ev.phase, ev.seal_ends_at,
                  ev.monitoring_ends_at)
            _phase(w, s, t, ev.episode_id, ev.phase)
        case e.HealthMonitoringStarted():
            w.add(f"UPDATE \"{s}\".episodes SET phase = 'health_monitoring' WHERE tenant = $1 AND episode_id = $2",
                  t, ev.episode_id)
            _phase(w, s, t, ev.episode_id, "health_monitoring")
        case e.BuildingUnsealed():
            w.add(f"UPDATE \"{s}\".episodes SET phase = 'released', released_at = $3 WHERE tenant = $1 "
                  "AND episode_id = $2", t, ev.episode_id, ev.released_at)
            _phase(w, s, t, ev.episode_id, "released")
            w.add(f'DELETE FROM "{s}".out_now WHERE tenant = $1 AND compound = $2 AND building_key = $3', t, cpd, key)
        case e.PlaybookStamped():
            w.add_many(f'INSERT INTO "{s}".tasks (tenant, compound, episode_id, key, title_zh, title_en, owner_role, '
                       'due_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING',
                       [(t, cpd, ev.episode_id, k.key, k.title_zh, k.title_en, k.owner_role, k.due_at)
                        for k in ev.tasks])
        case e.PlaybookTaskCompleted():
            w.add(f'UPDATE "{s}".tasks SET completed_at = $4, completed_by = $5 WHERE tenant = $1 '
                  'AND episode_id = $2 AND key = $3', t, ev.episode_id, ev.task_key, ev.completed_at, ev.completed_by)
        case e.NoticePublished():
            w.add(f'INSERT INTO "{s}".notices VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING',
                  t, cpd, key, ev.episode_id, ev.notice_id, ev.template_key, ev.title_zh, ev.text_zh,
                  ev.published_by, ev.published_at)
        case e.GroupMemberJoined():
            w.add(f'INSERT INTO "{s}".group_members VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING',
                  t, cpd, key, ev.member_id, ev.kind, ev.household_id, ev.party, ev.display_name, ev.joined_at)
        case e.GroupMemberLeft():
            w.add(f'DELETE FROM "{s}".group_members WHERE tenant = $1 AND compound = $2 AND building_key = $3 '
                  'AND member_id = $4', t, cpd, key, ev.member_id)
        case e.GatePassRecorded():
            w.add(f'INSERT INTO "{s}".gate_log VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING',
                  t, cpd, key, ev.pass_id, ev.resident_id, ev.household_id, ev.direction, ev.reason, ev.passed_at,
                  ev.recorded_by)
            if ev.direction == "out":
                w.add(f'INSERT INTO "{s}".out_now VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING',
                      t, cpd, key, ev.resident_id, ev.household_id, ev.passed_at, ev.reason)
            else:
                w.add(f'DELETE FROM "{s}".out_now WHERE tenant = $1 AND compound = $2 AND resident_id = $3',
                      t, cpd, ev.resident_id)


def _phase(w: Writes, s: str, t: str, episode_id: str, phase: str) -> None:
    w.add(f'UPDATE "{s}".buildings SET phase = $3 WHERE tenant = $1 AND episode_id = $2', t, episode_id, phase)


def apply_health(w: Writes, s: str, rec: RecordedEvent) -> bool:
    """Apply `rec` if it is a health event; False if it is another lockdown event."""
    ev, t, cpd = rec.event, rec.subject.tenant, rec.subject.compound
    match ev:
        case e.ResidentReported():
            w.add(f'INSERT INTO "{s}".reports VALUES ($1,$2,$3,$4,$5) ON CONFLICT (tenant, resident_id, window_start) '
                  'DO UPDATE SET fever = reports.fever OR EXCLUDED.fever', t, cpd, ev.resident_id, ev.window_start,
                  ev.fever)
        case e.FeverAlertRaised():
            w.add(f'INSERT INTO "{s}".fever_alerts VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING',
                  t, cpd, ev.building, ev.resident_id, ev.household_id, ev.report_id, ev.raised_at)
        case e.TestingRoundScheduled():
            w.add(f"INSERT INTO \"{s}\".rounds VALUES ($1,$2,$3,$4,$5,$6,'open',NULL) ON CONFLICT DO NOTHING",
                  t, cpd, ev.round_id, list(ev.buildings), ev.site, ev.starts_at)
        case e.TestingRoundClosed():
            w.add(f"UPDATE \"{s}\".rounds SET status = 'closed', closed_at = $3 WHERE tenant = $1 AND round_id = $2",
                  t, ev.round_id, ev.closed_at)
        case e.SamplingCodeBooked():
            w.add(f'INSERT INTO "{s}".sampling_codes VALUES ($1,$2,$3,$4,$5) ON CONFLICT (tenant, round_id, '
                  'resident_id) DO UPDATE SET code = EXCLUDED.code', t, ev.round_id, ev.code, ev.resident_id,
                  ev.household_id)
        case e.ResidentSampled():
            w.add(f"INSERT INTO \"{s}\".samples VALUES ($1,$2,$3,$4,'sampled',$5,$6,NULL) "
                  "ON CONFLICT (tenant, round_id, resident_id) DO UPDATE SET status = 'sampled', "
                  "method = EXCLUDED.method, tube_id = EXCLUDED.tube_id, reason = NULL",
                  t, ev.round_id, ev.resident_id, ev.household_id, ev.method, ev.tube_id)
        case e.ResidentMarkedAbsent():
            w.add(f"INSERT INTO \"{s}\".samples VALUES ($1,$2,$3,$4,'absent',NULL,NULL,$5) "
                  "ON CONFLICT (tenant, round_id, resident_id) DO UPDATE SET status = 'absent', "
                  "reason = EXCLUDED.reason", t, ev.round_id, ev.resident_id, ev.household_id, ev.reason)
        case e.ResidentTransferred():
            w.add(f'UPDATE "{s}".residents SET transferred_to = $3, transferred_at = $4 WHERE tenant = $1 '
                  'AND resident_id = $2', t, ev.resident_id, ev.facility, ev.transferred_at)
            w.add(f'DELETE FROM "{s}".out_now WHERE tenant = $1 AND compound = $2 AND resident_id = $3',
                  t, cpd, ev.resident_id)
        case _:
            return False
    return True
