"""Applying health events (and the registry's residents and cadres) to the lockdown read model."""
from __future__ import annotations

import orjson

from shared.eventlog.envelope import RecordedEvent
from shared.projections.writes import Writes
from shared.events import lockdown as e
from shared.events import registry as r


def apply_health(w: Writes, s: str, rec: RecordedEvent) -> bool:
    """Apply `rec` if it is a health or registry-resident event; False if it is someone else's."""
    ev, t, cpd, b = rec.event, rec.subject.tenant, rec.subject.compound, rec.subject.aggregate_id
    match ev:
        case r.ResidentRegistered():
            w.add(f"INSERT INTO \"{s}\".residents VALUES ($1,$2,$3,$4,$5,'living') ON CONFLICT DO NOTHING",
                               t, cpd, ev.resident_id, ev.household_id, ev.name)
        case r.ResidentUpdated() if ev.household_id or ev.name:
            w.add(f'UPDATE "{s}".residents SET household_id = COALESCE($3, household_id), '
                               'name = COALESCE($4, name) WHERE tenant = $1 AND resident_id = $2',
                               t, ev.resident_id, ev.household_id, ev.name)
        case r.ResidentMovedOut() | r.ResidentErased():
            status = "moved_out" if isinstance(ev, r.ResidentMovedOut) else "erased"
            w.add(f'UPDATE "{s}".residents SET status = $3, name = CASE WHEN $3 = \'erased\' '
                               "THEN '（已删除）' ELSE name END WHERE tenant = $1 AND resident_id = $2",
                               t, ev.resident_id, status)
        case r.BuildingCadreAssigned():
            w.add(f'INSERT INTO "{s}".cadres VALUES ($1,$2,$3,$4,$5) ON CONFLICT (tenant, compound, building) '
                               'DO UPDATE SET cadre_id = EXCLUDED.cadre_id, cadre_name = EXCLUDED.cadre_name',
                               t, cpd, ev.building, ev.cadre_id, ev.cadre_name)
        case e.ResidentReported():
            w.add(f'INSERT INTO "{s}".reports VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) '
                               'ON CONFLICT DO NOTHING', t, cpd, ev.building, ev.household_id, ev.resident_id,
                               ev.report_id, ev.window_start, ev.fever, ev.has_need, ev.temperature_sealed,
                               ev.reported_by, ev.reported_at)
        case e.FeverAlertRaised():
            w.add(f'INSERT INTO "{s}".fever_alerts VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING',
                               t, cpd, ev.building, ev.resident_id, ev.household_id, ev.report_id, ev.raised_at)
        case e.TestingRoundScheduled():
            w.add(f"INSERT INTO \"{s}\".rounds (tenant, compound, round_id, buildings, site, starts_at, "
                               "call_down, status) VALUES ($1,$2,$3,$4,$5,$6,$7,'open') ON CONFLICT DO NOTHING",
                               t, cpd, ev.round_id, list(ev.buildings), ev.site, ev.starts_at,
                               orjson.dumps([x.model_dump(mode="json") for x in ev.call_down]).decode())
        case e.TestingRoundClosed():
            w.add(f"UPDATE \"{s}\".rounds SET status = 'closed', sampled = $3, absent = $4, unaccounted = $5, "
                               'closed_at = $6 WHERE tenant = $1 AND round_id = $2', t, ev.round_id, ev.sampled,
                               ev.absent, list(ev.unaccounted), ev.closed_at)
        case e.SamplingCodeBooked():
            w.add(f'INSERT INTO "{s}".sampling_codes VALUES ($1,$2,$3,$4,$5) ON CONFLICT (tenant, round_id, '
                               'resident_id) DO UPDATE SET code = EXCLUDED.code', t, ev.round_id, ev.code,
                               ev.resident_id, ev.household_id)
        case e.ResidentSampled():
            w.add(f"INSERT INTO \"{s}\".samples VALUES ($1,$2,$3,$4,'sampled',$5,$6,NULL,$7,$8) "
                               "ON CONFLICT (tenant, round_id, resident_id) DO UPDATE SET status = 'sampled', "
                               'method = EXCLUDED.method, tube_id = EXCLUDED.tube_id, reason = NULL, '
                               'by_user = EXCLUDED.by_user, at = EXCLUDED.at', t, ev.round_id, ev.resident_id,
                               ev.household_id, ev.method, ev.tube_id, ev.sampled_by, ev.sampled_at)
        case e.ResidentMarkedAbsent():
            w.add(f"INSERT INTO \"{s}\".samples VALUES ($1,$2,$3,$4,'absent',NULL,NULL,$5,$6,$7) "
                               "ON CONFLICT (tenant, round_id, resident_id) DO UPDATE SET status = 'absent', "
                               'reason = EXCLUDED.reason, by_user = EXCLUDED.by_user, at = EXCLUDED.at',
                               t, ev.round_id, ev.resident_id, ev.household_id, ev.reason, ev.marked_by, ev.marked_at)
        case e.TestResultRecorded():
            w.add(f'INSERT INTO "{s}".tube_results VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING',
                               t, ev.round_id, ev.tube_id, ev.positive, ev.recorded_at)
        case e.ResidentTransferred():
            w.add(f'INSERT INTO "{s}".transfers VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING',
                               t, cpd, b, ev.resident_id, ev.household_id, ev.facility, ev.transferred_at, rec.seq)
        case e.BuildingDisinfected():
            w.add(f'INSERT INTO "{s}".disinfections VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING',
                               t, cpd, b, list(ev.floors), ev.disinfected_by, ev.disinfected_at, rec.seq)
        case _:
            return False
    return True
