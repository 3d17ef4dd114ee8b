"""The registry's events in the gateway's read model: compounds, buildings and their responsible
cadres, households, and residents with their masked ID number and phone only (the sealed values are
never copied: the gateway shows masks, and a clear print is the roster service's to make)."""
from __future__ import annotations

from shared.eventlog.envelope import RecordedEvent
from shared.events import registry as r
from shared.projections.writes import Writes


def apply_registry(w: Writes, s: str, rec: RecordedEvent) -> None:
    ev, t, cpd = rec.event, rec.subject.tenant, rec.subject.compound
    match ev:
        case r.CompoundRegistered():
            w.add(f'INSERT INTO "{s}".compounds VALUES ($1,$2,$3,$4) ON CONFLICT (tenant, compound) '
                  'DO UPDATE SET name = EXCLUDED.name, town = EXCLUDED.town', t, cpd, ev.name, ev.town)
        case r.BuildingRegistered():
            w.add(f'INSERT INTO "{s}".buildings (tenant, compound, building) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING',
                  t, cpd, ev.building)
        case r.BuildingCadreAssigned():
            w.add(f'INSERT INTO "{s}".buildings (tenant, compound, building, cadre_id, cadre_name) '
                  'VALUES ($1,$2,$3,$4,$5) ON CONFLICT (tenant, compound, building) '
                  'DO UPDATE SET cadre_id = EXCLUDED.cadre_id, cadre_name = EXCLUDED.cadre_name',
                  t, cpd, ev.building, ev.cadre_id, ev.cadre_name)
        case r.HouseholdRegistered():
            w.add(f'INSERT INTO "{s}".households VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING',
                  t, cpd, ev.household_id, ev.building, ev.entrance, ev.room, ev.floor)
        case r.ResidentRegistered():
            w.add(f"INSERT INTO \"{s}\".residents (tenant, compound, resident_id, household_id, name, sex, birth_year, "
                  "relation, flags, id_mask, phone_mask, status) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,'living') "
                  "ON CONFLICT DO NOTHING", t, cpd, ev.resident_id, ev.household_id, ev.name, ev.sex, ev.birth_year,
                  ev.relation, list(ev.flags), ev.id_mask, ev.phone_mask)
        case r.ResidentUpdated():
            w.add(f'UPDATE "{s}".residents SET household_id = COALESCE($3, household_id), name = COALESCE($4, name), '
                  'phone_mask = COALESCE($5, phone_mask), relation = COALESCE($6, relation), '
                  'flags = COALESCE($7, flags) WHERE tenant = $1 AND resident_id = $2',
                  t, ev.resident_id, ev.household_id, ev.name, ev.phone_mask, ev.relation,
                  list(ev.flags) if ev.flags is not None else None)
        case r.ResidentMovedOut():
            w.add(f"UPDATE \"{s}\".residents SET status = 'moved_out' WHERE tenant = $1 AND resident_id = $2",
                  t, ev.resident_id)
        case r.ResidentErased():
            w.add(f"UPDATE \"{s}\".residents SET status = 'erased', name = '', id_mask = '', phone_mask = '', "
                  "relation = '', flags = '{}' WHERE tenant = $1 AND resident_id = $2", t, ev.resident_id)
