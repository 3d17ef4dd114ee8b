"""The delivery and roster services' events in the gateway's read model: supply requests with their
state, holder and the queue standing the delivery service gave them (`apply_delivery`); the duty
rota's people, posts, planned shifts, check-ins and the reinforcement requests (`apply_rota`)."""
from __future__ import annotations

from datetime import date

from shared.eventlog.envelope import RecordedEvent
from shared.events import delivery as d
from shared.events import roster as ro
from shared.projections.writes import Writes

UPDATE = 'UPDATE "{s}".requests SET {sets}, updated_at = $3 WHERE tenant = $1 AND request_id = $2'
_FAR = date(9999, 12, 31)  # "from this day on"
_REMOVE = ('UPDATE "{s}".shifts SET people = array_remove(people, $3) WHERE tenant = $1 AND compound = $2 '
           'AND $3 = ANY(people) AND day BETWEEN $4 AND $5')


def _set(w: Writes, s: str, t: str, rid: str, at, **columns) -> None:
    sets = ", ".join(f"{k} = ${i + 4}" for i, k in enumerate(columns))
    w.add(UPDATE.format(s=s, sets=sets), t, rid, at, *columns.values())


def apply_delivery(w: Writes, s: str, rec: RecordedEvent) -> None:  # noqa: C901 - one case per event
    ev, t, cpd = rec.event, rec.subject.tenant, rec.subject.compound
    match ev:
        case d.DeliveryRequested():
            standing = getattr(ev, "standing", None)
            w.add(f'INSERT INTO "{s}".requests (tenant, compound, request_id, building, household_id, status, items, '
                  'category, source, urgency, vulnerable, requested_at, tier, why, why_en, updated_at) VALUES '
                  "($1,$2,$3,$4,$5,'requested',$6,$7,$8,$9,$10,$11,$12,$13,$14,$11) ON CONFLICT DO NOTHING",
                  t, cpd, ev.request_id, ev.building, ev.household_id, ev.items, ev.category, ev.source, ev.urgency,
                  list(ev.vulnerable), ev.requested_at, standing.tier if standing else None,
                  list(standing.reasons_zh) if standing else [], list(standing.reasons_en) if standing else [])
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


def apply_rota(w: Writes, s: str, rec: RecordedEvent) -> None:  # noqa: C901 - one case per event
    ev, t, cpd = rec.event, rec.subject.tenant, rec.subject.compound
    match ev:
        case ro.DutyPersonEnrolled():
            w.add(f'INSERT INTO "{s}".duty_people VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (tenant, compound, person_id) '
                  'DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role', t, cpd, ev.person_id, ev.name, ev.role,
                  rec.seq)
        case ro.DutyPersonWithdrawn():
            w.add(_REMOVE.format(s=s), t, cpd, ev.person_id, ev.from_day, _FAR)
        case ro.DutyPersonLent():
            w.add(_REMOVE.format(s=s), t, cpd, ev.person_id, ev.from_day, ev.until_day)
        case ro.GatePostOpened():
            w.add(f'INSERT INTO "{s}".posts VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (tenant, compound, post_id) '
                  'DO UPDATE SET building = $4, start_day = $5, end_day = $6, shifts = $7',
                  t, cpd, ev.post_id, ev.building, ev.start, ev.end, list(ev.shifts))
        case ro.GatePostClosed():
            w.add(f'UPDATE "{s}".posts SET end_day = $4 WHERE tenant = $1 AND compound = $2 AND post_id = $3',
                  t, cpd, ev.post_id, ev.last_day)
            w.add(f'DELETE FROM "{s}".shifts WHERE tenant = $1 AND compound = $2 AND post_id = $3 AND day > $4',
                  t, cpd, ev.post_id, ev.last_day)
        case ro.RotaPlanned():
            w.add(f'DELETE FROM "{s}".shifts WHERE tenant = $1 AND compound = $2 AND day BETWEEN $3 AND $4',
                  t, cpd, ev.start, ev.end)
            w.add_many(f'INSERT INTO "{s}".shifts VALUES ($1,$2,$3,$4,$5,$6)',
                       [(t, cpd, x.post_id, x.day, x.shift, list(x.people)) for x in ev.shifts])
        case ro.ShiftSwapped():
            w.add(f'UPDATE "{s}".shifts SET people = array_replace(people, $6, $7) WHERE tenant = $1 AND compound = $2 '
                  'AND post_id = $3 AND day = $4 AND shift = ANY($5)', t, cpd, ev.post_id, ev.day, list(ev.shifts),
                  ev.out_person, ev.in_person)
        case ro.ShiftCheckedIn():
            w.add(f'INSERT INTO "{s}".checkins VALUES ($1,$2,$3,$4,$5,$6,$7,NULL) ON CONFLICT DO NOTHING',
                  t, cpd, ev.post_id, ev.day, ev.shift, ev.person_id, ev.checked_in_at)
        case ro.ShiftCheckedOut():
            w.add(f'UPDATE "{s}".checkins SET checked_out_at = $7 WHERE tenant = $1 AND compound = $2 AND post_id = $3 '
                  'AND day = $4 AND shift = $5 AND person_id = $6', t, cpd, ev.post_id, ev.day, ev.shift, ev.person_id,
                  ev.checked_out_at)
        case ro.ReinforcementRequested():
            w.add(f"INSERT INTO \"{s}\".reinforcements VALUES ($1,$2,$3,$4,$5,0,$6,$7,$8,'open',$9) "
                  "ON CONFLICT DO NOTHING", t, cpd, ev.request_id, ev.town, ev.people, ev.from_day, ev.until_day,
                  ev.reason, ev.requested_at)
        case ro.ReinforcementDispatched():
            w.add(f'UPDATE "{s}".reinforcements SET sent = sent + $3 WHERE tenant = $1 AND request_id = $2',
                  t, ev.request_id, len(ev.people))
        case ro.ReinforcementClosed():
            w.add(f'UPDATE "{s}".reinforcements SET status = $3 WHERE tenant = $1 AND request_id = $2',
                  t, ev.request_id, ev.outcome)
