"""`louzu roster …` (print a building's or a compound's roster) and `louzu rota …` (every duty-rota
and reinforcement command and view)."""
from __future__ import annotations

import asyncio
import codecs
import json
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import nats

from shared.cli import (STDOUT, NeedsOutputFile, add_command_verbs, print_problem, refuse_terminal, send_command,
                        to_stdout, write_document)
from shared.crypto import load_or_create_secret
from shared.errors import DomainError
from shared.infra.system import urls
from shared.localtime import SHANGHAI

S = "proj_roster"

# verb → (command, help, [(argument, kind)]); kind: pos, opt, flag, int, list (comma-separated), people
COMMAND_VERBS: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "enroll": ("enroll_duty_person", "add someone to the duty pool",
               [("person_id", "pos"), ("person_name", "opt"), ("role", "opt"), ("home_compound", "opt"),
                ("available_from", "opt"), ("available_until", "opt"), ("unavailable", "list")]),
    "availability": ("set_duty_availability", "change someone's availability",
                     [("person_id", "pos"), ("available_from", "opt"), ("available_until", "opt"),
                      ("unavailable", "list")]),
    "withdraw": ("withdraw_duty_person", "take someone out of the pool (their shifts become gaps)",
                 [("person_id", "pos"), ("from_day", "opt"), ("reason", "opt")]),
    "post-open": ("open_gate_post", "set up a gate post at a sealed building",
                  [("building", "pos"), ("post_id", "opt"), ("start", "opt"), ("end", "opt"), ("shifts", "list")]),
    "post-close": ("close_gate_post", "stop staffing a post after a day", [("post_id", "pos"), ("last_day", "opt")]),
    "plan": ("plan_rota", "plan the rota in pairs, one day on, one day off", [("start", "opt"), ("end", "opt")]),
    "swap": ("swap_shift", "one person stands in for another",
             [("post_id", "pos"), ("day", "opt"), ("shift", "opt"), ("out_person", "opt"), ("in_person", "opt"),
              ("reason", "opt"), ("accept_warnings", "flag")]),
    "check-in": ("check_in_shift", "arrive at the post",
                 [("post_id", "pos"), ("day", "opt"), ("shift", "opt"), ("person_id", "opt")]),
    "check-out": ("check_out_shift", "leave the post with a hand-over note",
                  [("post_id", "pos"), ("day", "opt"), ("shift", "opt"), ("person_id", "opt"),
                   ("handover_note", "opt")]),
    "standby": ("set_standby", "the cadres on 24-hour standby for a day", [("day", "pos"), ("person_ids", "list")]),
    "reinforce": ("request_reinforcement", "ask the town for people",
                  [("request_id", "opt"), ("town", "opt"), ("people", "int"), ("from_day", "opt"),
                   ("until_day", "opt"), ("reason", "opt")]),
    "dispatch": ("dispatch_reinforcement", "(town) send people: --person id:name:from_compound[:from_tenant]",
                 [("request_id", "pos"), ("people", "people")]),
    "reinforce-close": ("close_reinforcement", "close a request (filled or withdrawn)",
                        [("request_id", "pos"), ("outcome", "opt")]),
}


def _person(text: str) -> dict:
    parts = text.split(":")
    if len(parts) not in (3, 4) or not all(parts[:3]):
        raise DomainError("person_format", f"「{text}」格式应为 编号:姓名:来源小区[:来源居委]",
                          f"{text!r} must be id:name:from_compound[:from_tenant]", "person")
    return {"person_id": parts[0], "name": parts[1], "from_compound": parts[2],
            "from_tenant": parts[3] if len(parts) == 4 else ""}


def _body(args, fields) -> dict:
    body = {"tenant": args.tenant or args.compound, "compound": args.compound,
            "actor": args.actor_id}
    for name, kind in fields:
        value = getattr(args, name)
        if value is None or value is False:
            continue
        if kind == "list":
            value = [v.strip() for v in value.split(",") if v.strip()]
        elif kind == "people":
            value = [_person(v) for v in value]
        body[name] = value
    return body


async def cmd_send(args, settings) -> int:
    name, _, fields = COMMAND_VERBS[args.rota_verb]
    try:
        body = _body(args, fields)
    except DomainError as exc:
        print_problem(exc.problem.as_dict())
        return 1
    return await send_command(settings, "roster", body["tenant"], name, body)


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


async def cmd_view(args, settings) -> int:
    from services.roster.projections import rota_queries as q
    if args.view == "print":
        try:
            to_stdout(args.output, "pdf", binary=True, example=f"rota-{args.compound}.pdf")
        except NeedsOutputFile as exc:
            return refuse_terminal(exc)
    _, database_url = urls(settings)
    conn = await asyncpg.connect(database_url)
    tenant = (args.tenant or args.compound) if getattr(args, "compound", None) else args.tenant
    today = datetime.now(SHANGHAI).date()
    try:
        if args.view == "pool":
            data = await q.pool(conn, S, tenant, args.compound)
        elif args.view == "show":
            data = await q.plan(conn, S, tenant, args.compound, _date(args.start) or today, _date(args.end))
        elif args.view == "gaps":
            data = await q.gaps(conn, S, tenant, args.compound, _date(args.start) or today)
        elif args.view == "checkins":
            data = await q.checkins(conn, S, tenant, args.compound, _date(args.day) or today)
        elif args.view == "standby-list":
            data = await q.standby(conn, S, tenant, args.compound, _date(args.start) or today, _date(args.end))
        elif args.view == "reinforcements":
            data = await q.reinforcements(conn, S, town=args.town, tenant=tenant, open_only=args.open)
        else:
            return await _print_rota(conn, args, tenant, today)
    finally:
        await conn.close()
    print(json.dumps(data, ensure_ascii=False, default=str, indent=None if args.json else 2))
    return 0


async def _print_rota(conn, args, tenant: str, today: date) -> int:
    from services.roster.adapters.printing import rota_pdf
    from services.roster.projections.rota_queries import rota_sheet
    first = _date(args.start) or today
    last = _date(args.end) or first + timedelta(days=13)
    sheet = await rota_sheet(conn, S, tenant, args.compound, first, last, datetime.now(timezone.utc))
    write_document(rota_pdf(sheet), args.output, f"{len(sheet.days)} 天 days, {len(sheet.posts)} 个门岗 posts, "
                                                 f"{sum(c.gap for c in sheet.cells)} 个缺人班次 shifts short")
    return 0


def add_parsers(sub) -> None:
    add_roster_parser(sub)
    rota = sub.add_parser("rota", help="the gate-post duty rota and reinforcements")
    verbs = rota.add_subparsers(dest="rota_verb", required=True)
    add_command_verbs(verbs, COMMAND_VERBS, cmd_send)
    for view, help_text in (("pool", "the duty pool: roles, availability, days on"),
                            ("show", "the planned shifts with names and check-ins"),
                            ("gaps", "shifts with fewer than two, unplanned days, sealed buildings without a post"),
                            ("checkins", "check-ins, check-outs and hand-over notes of a day"),
                            ("standby-list", "the cadres on 24-hour standby"),
                            ("reinforcements", "reinforcement requests (a committee's, or --town's)"),
                            ("print", "the rota as a one-page A4 PDF")):
        p = verbs.add_parser(view, help=help_text)
        p.add_argument("compound", nargs="?" if view == "reinforcements" else None)
        p.add_argument("--tenant")
        p.add_argument("--json", action="store_true")
        p.add_argument("--start", "--from", dest="start")
        p.add_argument("--end", "--to", dest="end")
        if view == "checkins":
            p.add_argument("--day")
        if view == "reinforcements":
            p.add_argument("--town")
            p.add_argument("--open", action="store_true", help="only requests still open")
        if view == "print":
            p.add_argument("-o", "--output", help="PDF file (default: standard output, unless it is a terminal)")
        p.set_defaults(fn=cmd_view, view=view)


def parse_moment(text: str) -> datetime:
    """ISO date-time; without a zone it is Shanghai time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError("as_of_format", f"时间「{text}」格式应为 2022-04-02T14:00",
                          f"time {text!r} must look like 2022-04-02T14:00", "as_of") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


async def cmd_roster(args, settings) -> int:
    from services.roster.application.printing import PrintRequest, render
    to_file = args.output not in (None, STDOUT)
    fmt = args.format or (Path(args.output).suffix.lstrip(".").lower() if to_file else "pdf")
    try:
        to_stdout(args.output, fmt, binary=fmt != "csv", example=f"{args.building or args.compound}.{fmt}")
    except NeedsOutputFile as exc:
        return refuse_terminal(exc)
    try:
        if args.clear and not args.reason:
            raise DomainError("reason_required", "打印明文必须用 --reason 说明理由",
                              "--clear needs --reason", "reason")
        req = PrintRequest(tenant=args.tenant or args.compound, compound=args.compound,
                           building=None if args.building in (None, "all") else args.building, fmt=fmt,
                           actor=args.actor_id, as_of=parse_moment(args.as_of) if args.as_of else None,
                           clear_reason=args.reason if args.clear else None, public_url=_public_url(settings),
                           link_secret=load_or_create_secret(settings.secrets_dir / "links.key"))
        nats_url, database_url = urls(settings)
        printers = None
        if fmt == "pdf" and req.building is None:  # a whole compound: printer processes pay (≈ 13 s → 9 s)
            from services.roster.adapters import roster_pdf
            printers = asyncio.create_task(asyncio.to_thread(roster_pdf.start_workers, settings.print_workers))
        nc = await nats.connect(nats_url)
        try:
            if printers is not None:
                await printers
            data = await render(nc, database_url, req)
        finally:
            await nc.close()
            if printers is not None:
                await asyncio.to_thread(roster_pdf.stop_workers)
    except DomainError as exc:
        print(f"{exc.problem.message_zh}\n{exc.problem.message_en}", file=sys.stderr)
        return 1
    if fmt == "csv" and not to_file:
        data = data.removeprefix(codecs.BOM_UTF8)  # the BOM is for Excel opening a file, not for a pipe
    write_document(data, args.output, f"{len(data):,} bytes" + (" (as of " + args.as_of + ")" if args.as_of else ""))
    return 0


def _public_url(settings) -> str:
    """Where the QR code's link points: LOUZU_PUBLIC_URL, else the running consoles' address."""
    import os
    from shared.infra.system import read_state
    return os.environ.get("LOUZU_PUBLIC_URL") or read_state(settings).get("http_url") or settings.public_url


def add_roster_parser(sub) -> None:
    p = sub.add_parser("roster", help="print a building's roster (樓組表), or every building's: pdf, xlsx or csv")
    p.add_argument("compound")
    p.add_argument("building", nargs="?", help="building number; leave out (or 'all') for the whole compound")
    p.add_argument("--tenant")
    p.add_argument("--format", choices=("pdf", "xlsx", "csv"), help="default: from the -o file's extension")
    p.add_argument("-o", "--output", help="file (default: standard output; a PDF or XLSX is not written to a "
                                          "terminal)")
    p.add_argument("--as-of", dest="as_of", help="as the log stood at this time (audits), e.g. 2022-04-02T14:00")
    p.add_argument("--clear", action="store_true", help="ID numbers and phones in clear (logged; needs --reason)")
    p.add_argument("--reason", help="why the clear values are needed")
    p.set_defaults(fn=cmd_roster)
