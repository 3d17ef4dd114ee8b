"""`louzu lockdown …` verbs for health: reports, testing rounds, results, transfers, disinfection."""
from __future__ import annotations

import sys
from datetime import datetime, timezone

import asyncpg

from shared.cli import send_command
from shared.events.lockdown import DEFAULT_REPORT_TIMES
from shared.infra.system import urls
from services.lockdown.domain.health import report_window
from services.lockdown.entrypoints.common import _base
from services.lockdown.projections import health_queries as hq


async def cmd_health(args, settings) -> int:
    tenant, body = _base(args)
    name = args.command_name
    if name == "report_resident":
        body.update(building=args.building, household_id=args.household, resident_id=args.resident,
                    temperature=args.temperature, symptoms=args.symptoms or "", need=args.need or "")
    elif name == "schedule_testing_round":
        body.update(round_id=args.round, buildings=args.buildings.split(","), site=args.site, starts_at=args.starts_at,
                    top_floor=args.top_floor, floors_per_slot=args.floors_per_slot, slot_minutes=args.slot_minutes)
    elif name == "book_sampling_code":
        body.update(round_id=args.round, resident_id=args.resident, household_id=args.household, code=args.code)
    elif name == "check_off_sample":
        resident, household, method = args.resident, args.household, args.method
        if args.code:
            found = await _by_code(settings, tenant, args.round, args.code)
            if found is None:
                print(f"采样码未预约 / sampling code not booked in round {args.round}", file=sys.stderr)
                return 1
            resident, household, method = found["resident_id"], found["household_id"], "code"
        body.update(round_id=args.round, resident_id=resident, household_id=household, method=method, tube_id=args.tube)
    elif name == "mark_absent":
        body.update(round_id=args.round, resident_id=args.resident, household_id=args.household, reason=args.reason)
    elif name == "close_testing_round":
        body.update(round_id=args.round, force=args.force)
    elif name == "record_test_result":
        body.update(round_id=args.round, tube_id=args.tube, positive=args.result == "positive")
    elif name == "transfer_resident":
        body.update(building=args.building, resident_id=args.resident, household_id=args.household,
                    facility=args.facility)
    elif name == "disinfect_building":
        body.update(building=args.building, floors=[int(f) for f in args.floors.split(",")] if args.floors else [])
    return await send_command(settings, "lockdown", tenant, name, body)


async def _by_code(settings, tenant: str, round_id: str, code: str) -> dict | None:
    _, database_url = urls(settings)
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT resident_id, household_id FROM proj_lockdown.sampling_codes "
                                  "WHERE tenant = $1 AND round_id = $2 AND code = $3", tenant, round_id, code)
    finally:
        await conn.close()
    return dict(row) if row else None


async def health_view(conn, args, tenant: str):
    if args.view == "missed":
        window = datetime.fromisoformat(args.window) if args.window else await _last_window(conn)
        return {"window_start": window, "by_cadre": await hq.missed_reports(conn, tenant, args.compound, window)}
    if args.view == "fevers":
        return await hq.fever_alerts(conn, tenant, args.compound)
    if args.view == "unsampled":
        rows = await hq.unsampled(conn, tenant, args.round)
        by_floor: dict[str, list] = {}
        for r in rows:
            by_floor.setdefault(f"{r['building']}#{r['floor']}", []).append({"household": r["household_id"],
                                                                             "resident": r["resident_id"], "name": r["name"]})
        return {"not_yet_sampled": len(rows), "by_floor": by_floor}
    if args.view == "round":
        return await hq.round_roster(conn, tenant, args.round)
    if args.view == "flagged":
        return await hq.positive_residents(conn, tenant, args.round)
    if args.view == "transfers":
        return await hq.transfers(conn, tenant, args.compound)
    return await hq.disinfections(conn, tenant, args.compound)


async def _last_window(conn) -> datetime:
    row = await conn.fetchrow("SELECT report_times, report_window_minutes FROM proj_lockdown.towns "
                              "WHERE report_times IS NOT NULL LIMIT 1")
    times = tuple(row["report_times"]) if row else DEFAULT_REPORT_TIMES
    return report_window(datetime.now(timezone.utc), times)


def add_health_parsers(verbs, cmd_view) -> None:
    def command(name: str, command_name: str, help_text: str, building: bool = True):
        p = verbs.add_parser(name, help=help_text)
        p.add_argument("compound")
        if building:
            p.add_argument("building")
        p.add_argument("--tenant")
        p.set_defaults(fn=cmd_health, command_name=command_name)
        return p

    rep = command("report", "report_resident", "report a resident's temperature (and symptoms, a need)")
    rep.add_argument("resident")
    rep.add_argument("--household", required=True)
    rep.add_argument("--temperature", type=float, required=True)
    rep.add_argument("--symptoms")
    rep.add_argument("--need")
    rnd = command("round", "schedule_testing_round", "schedule a testing round with a staggered call-down", False)
    rnd.add_argument("round")
    rnd.add_argument("--buildings", required=True, help="comma-separated building numbers")
    rnd.add_argument("--site", required=True)
    rnd.add_argument("--starts-at", required=True, help="ISO time, e.g. 2022-03-22T07:00+08:00")
    rnd.add_argument("--top-floor", type=int, default=6)
    rnd.add_argument("--floors-per-slot", type=int, default=3)
    rnd.add_argument("--slot-minutes", type=int, default=15)
    book = command("book", "book_sampling_code", "book a resident's sampling code", False)
    for arg in ("round", "resident"):
        book.add_argument(arg)
    book.add_argument("--household", required=True)
    book.add_argument("--code", required=True)
    check = command("checkoff", "check_off_sample", "check off a sampled resident (by --code or by resident)", False)
    check.add_argument("round")
    check.add_argument("--resident")
    check.add_argument("--household")
    check.add_argument("--code")
    check.add_argument("--method", choices=["roster", "door"], default="roster")
    check.add_argument("--tube", required=True)
    absent = command("absent", "mark_absent", "mark a resident absent from a round, with the reason", False)
    absent.add_argument("round")
    absent.add_argument("resident")
    absent.add_argument("--household", required=True)
    absent.add_argument("--reason", required=True)
    close = command("close", "close_testing_round", "close a round; refused while anyone is unaccounted for", False)
    close.add_argument("round")
    close.add_argument("--force", action="store_true", help="close anyway, listing the unaccounted")
    result = command("result", "record_test_result", "record a pooled tube's result", False)
    result.add_argument("round")
    result.add_argument("tube")
    result.add_argument("result", choices=["positive", "negative"])
    transfer = command("transfer", "transfer_resident", "record a resident's transfer (转运)")
    transfer.add_argument("resident")
    transfer.add_argument("--household", required=True)
    transfer.add_argument("--facility", required=True)
    disinfect = command("disinfect", "disinfect_building", "record disinfection (消杀) of a building or floors")
    disinfect.add_argument("--floors", help="comma-separated floors; default the whole building")

    for view, needs_round, help_text in (
            ("missed", False, "residents with no report in a window, per responsible cadre"),
            ("fevers", False, "fever alerts"), ("unsampled", True, "who is not yet sampled, by floor and household"),
            ("roster", True, "a round's roster with each resident's status"),
            ("flagged", True, "residents in positive pooled tubes"),
            ("transfers", False, "transfers"), ("disinfections", False, "disinfections")):
        p = verbs.add_parser(view, help=help_text)
        p.add_argument("compound")
        if needs_round:
            p.add_argument("round")
        if view == "missed":
            p.add_argument("--window", help="window start (ISO); default: the latest window")
        p.add_argument("--tenant")
        p.add_argument("--json", action="store_true")
        p.set_defaults(fn=cmd_view, view="round" if view == "roster" else view)
