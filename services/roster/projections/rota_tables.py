"""The duty-rota part of the roster read model: the pool, the posts, each shift's people, check-ins
with hand-over notes, the standby list, swaps (for the audit) and reinforcement requests."""
from __future__ import annotations

from datetime import date

from shared.eventlog.envelope import RecordedEvent
from shared.events import roster as e
from shared.projections.writes import Writes

ROTA_DDL = """
CREATE TABLE IF NOT EXISTS "{s}".duty_people (
    tenant text NOT NULL, compound text NOT NULL, person_id text NOT NULL, name text NOT NULL, role text NOT NULL,
    home_compound text NOT NULL, available_from date, available_until date, unavailable date[] NOT NULL,
    withdrawn_from date, request_id text NOT NULL, enrolled_seq bigint NOT NULL,
    PRIMARY KEY (tenant, compound, person_id));
CREATE TABLE IF NOT EXISTS "{s}".duty_away (
    tenant text NOT NULL, compound text NOT NULL, person_id text NOT NULL, from_day date NOT NULL,
    until_day date NOT NULL, to_tenant text NOT NULL, to_compound text NOT NULL, request_id text NOT NULL,
    PRIMARY KEY (tenant, compound, person_id, request_id));
CREATE TABLE IF NOT EXISTS "{s}".posts (
    tenant text NOT NULL, compound text NOT NULL, post_id text NOT NULL, building text NOT NULL,
    start_day date NOT NULL, end_day date NOT NULL, shifts text[] NOT NULL, PRIMARY KEY (tenant, compound, post_id));
CREATE TABLE IF NOT EXISTS "{s}".shifts (
    tenant text NOT NULL, compound text NOT NULL, post_id text NOT NULL, day date NOT NULL, shift text NOT NULL,
    people text[] NOT NULL, PRIMARY KEY (tenant, compound, post_id, day, shift));
CREATE TABLE IF NOT EXISTS "{s}".checkins (
    tenant text NOT NULL, compound text NOT NULL, post_id text NOT NULL, day date NOT NULL, shift text NOT NULL,
    person_id text NOT NULL, checked_in_at timestamptz NOT NULL, checked_out_at timestamptz,
    handover_note text NOT NULL DEFAULT '', PRIMARY KEY (tenant, compound, post_id, day, shift, person_id));
CREATE TABLE IF NOT EXISTS "{s}".standby (
    tenant text NOT NULL, compound text NOT NULL, day date NOT NULL, person_ids text[] NOT NULL,
    PRIMARY KEY (tenant, compound, day));
CREATE TABLE IF NOT EXISTS "{s}".swaps (
    tenant text NOT NULL, compound text NOT NULL, seq bigint NOT NULL, post_id text NOT NULL, day date NOT NULL,
    shifts text[] NOT NULL, out_person text NOT NULL, in_person text NOT NULL, reason text NOT NULL,
    warnings text[] NOT NULL, swapped_by text NOT NULL, swapped_at timestamptz NOT NULL, PRIMARY KEY (tenant, seq));
CREATE TABLE IF NOT EXISTS "{s}".reinforcements (
    tenant text NOT NULL, compound text NOT NULL, request_id text NOT NULL, town text NOT NULL, people int NOT NULL,
    sent int NOT NULL DEFAULT 0, from_day date NOT NULL, until_day date NOT NULL, reason text NOT NULL,
    status text NOT NULL, requested_by text NOT NULL, requested_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, request_id));
CREATE TABLE IF NOT EXISTS "{s}".reinforcement_people (
    tenant text NOT NULL, request_id text NOT NULL, person_id text NOT NULL, name text NOT NULL,
    from_tenant text NOT NULL, from_compound text NOT NULL, PRIMARY KEY (tenant, request_id, person_id));
"""

_FAR = date(9999, 12, 31)  # "from this day on"
ROTA_TABLES = ("duty_people", "duty_away", "posts", "shifts", "checkins", "standby", "swaps", "reinforcements",
               "reinforcement_people")

_REMOVE = ('UPDATE "{s}".shifts SET people = array_remove(people, $3) WHERE tenant = $1 AND compound = $2 '
           'AND $3 = ANY(people) AND day BETWEEN $4 AND $5')


def apply_rota(w: Writes, s: str, rec: RecordedEvent) -> None:  # noqa: C901 - one case per event
    ev, t, cpd = rec.event, rec.subject.tenant, rec.subject.compound
    match ev:
        case e.DutyPersonEnrolled():
            w.add(f'INSERT INTO "{s}".duty_people VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,NULL,$10,$11) '
                  'ON CONFLICT (tenant, compound, person_id) DO UPDATE SET name = $4, role = $5, home_compound = $6, '
                  'available_from = $7, available_until = $8, unavailable = $9, withdrawn_from = NULL, request_id = $10',
                  t, cpd, ev.person_id, ev.name, ev.role, ev.home_compound, ev.available_from, ev.available_until,
                  list(ev.unavailable), ev.request_id, rec.seq)
        case e.DutyAvailabilitySet():
            w.add(f'UPDATE "{s}".duty_people SET available_from = $4, available_until = $5, unavailable = $6 '
                  'WHERE tenant = $1 AND compound = $2 AND person_id = $3', t, cpd, ev.person_id, ev.available_from,
                  ev.available_until, list(ev.unavailable))
        case e.DutyPersonWithdrawn():
            w.add(f'UPDATE "{s}".duty_people SET withdrawn_from = $4 WHERE tenant = $1 AND compound = $2 '
                  'AND person_id = $3', t, cpd, ev.person_id, ev.from_day)
            w.add(_REMOVE.format(s=s), t, cpd, ev.person_id, ev.from_day, _FAR)
        case e.DutyPersonLent():
            w.add(f'INSERT INTO "{s}".duty_away VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING',
                  t, cpd, ev.person_id, ev.from_day, ev.until_day, ev.to_tenant, ev.to_compound, ev.request_id)
            w.add(_REMOVE.format(s=s), t, cpd, ev.person_id, ev.from_day, ev.until_day)
        case e.GatePostOpened():
            w.add(f'INSERT INTO "{s}".posts VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (tenant, compound, post_id) '
                  'DO UPDATE SET building = $4, start_day = $5, end_day = $6, shifts = $7',
                  t, cpd, ev.post_id, ev.building, ev.start, ev.end, list(ev.shifts))
        case e.GatePostClosed():
            w.add(f'UPDATE "{s}".posts SET end_day = $4 WHERE tenant = $1 AND compound = $2 AND post_id = $3',
                  t, cpd, ev.post_id, ev.last_day)
            w.add(f'DELETE FROM "{s}".shifts WHERE tenant = $1 AND compound = $2 AND post_id = $3 AND day > $4',
                  t, cpd, ev.post_id, ev.last_day)
        case e.RotaPlanned():
            w.add(f'DELETE FROM "{s}".shifts WHERE tenant = $1 AND compound = $2 AND day BETWEEN $3 AND $4',
                  t, cpd, ev.start, ev.end)
            w.add_many(f'INSERT INTO "{s}".shifts VALUES ($1,$2,$3,$4,$5,$6)',
                       [(t, cpd, x.post_id, x.day, x.shift, list(x.people)) for x in ev.shifts])
        case e.ShiftSwapped():
            w.add(f'UPDATE "{s}".shifts SET people = array_replace(people, $6, $7) WHERE tenant = $1 AND compound = $2 '
                  'AND post_id = $3 AND day = $4 AND shift = ANY($5)', t, cpd, ev.post_id, ev.day, list(ev.shifts),
                  ev.out_person, ev.in_person)
            w.add(f'INSERT INTO "{s}".swaps VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT DO NOTHING',
                  t, cpd, rec.seq, ev.post_id, ev.day, list(ev.shifts), ev.out_person, ev.in_person, ev.reason,
                  list(ev.warnings), ev.swapped_by, ev.swapped_at)
        case e.ShiftCheckedIn():
            w.add(f'INSERT INTO "{s}".checkins VALUES ($1,$2,$3,$4,$5,$6,$7,NULL,\'\') ON CONFLICT DO NOTHING',
                  t, cpd, ev.post_id, ev.day, ev.shift, ev.person_id, ev.checked_in_at)
        case e.ShiftCheckedOut():
            w.add(f'UPDATE "{s}".checkins SET checked_out_at = $7, handover_note = $8 WHERE tenant = $1 '
                  'AND compound = $2 AND post_id = $3 AND day = $4 AND shift = $5 AND person_id = $6',
                  t, cpd, ev.post_id, ev.day, ev.shift, ev.person_id, ev.checked_out_at, ev.handover_note)
        case e.StandbySet():
            w.add(f'INSERT INTO "{s}".standby VALUES ($1,$2,$3,$4) ON CONFLICT (tenant, compound, day) '
                  'DO UPDATE SET person_ids = EXCLUDED.person_ids', t, cpd, ev.day, list(ev.person_ids))
        case e.ReinforcementRequested():
            w.add(f"INSERT INTO \"{s}\".reinforcements VALUES ($1,$2,$3,$4,$5,0,$6,$7,$8,'open',$9,$10) "
                  "ON CONFLICT DO NOTHING", t, cpd, ev.request_id, ev.town, ev.people, ev.from_day, ev.until_day,
                  ev.reason, ev.requested_by, ev.requested_at)
        case e.ReinforcementDispatched():
            w.add_many(f'INSERT INTO "{s}".reinforcement_people VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING',
                       [(t, ev.request_id, p.person_id, p.name, p.from_tenant, p.from_compound) for p in ev.people])
            w.add(f'UPDATE "{s}".reinforcements SET sent = sent + $3 WHERE tenant = $1 AND request_id = $2',
                  t, ev.request_id, len(ev.people))
        case e.ReinforcementClosed():
            w.add(f'UPDATE "{s}".reinforcements SET status = $3 WHERE tenant = $1 AND request_id = $2',
                  t, ev.request_id, ev.outcome)

