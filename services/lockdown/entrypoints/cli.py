"""`louzu lockdown …`: every lockdown command and view, for a cadre at 2 a.m. (and for the tests)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import asyncpg

from shared.cli import send_command
from shared.infra.system import urls
from services.lockdown.entrypoints.common import _base
from services.lockdown.entrypoints.health_cli import add_health_parsers, health_view
from services.lockdown.projections import queries

HEALTH_VIEWS = ("missed", "fevers", "unsampled", "round", "flagged", "transfers", "disinfections")
PHASE_ZH = {"sealed": "封控期", "health_monitoring": "健康监测期", "released": "已解封"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def cmd_policy(args, settings) -> int:
    body = {"tenant": f"town-{args.town}", "compound": "all", "actor": args.actor_id, "town": args.town,
            "seal_days": args.seal_days, "monitoring_days": args.monitoring_days,
            "max_out_minutes": args.max_out_minutes, "report_times": args.report_times.split(",")}
    return await send_command(settings, "lockdown", f"town-{args.town}", "set_town_policy", body)


async def cmd_playbook(args, settings) -> int:
    body = {"tenant": f"town-{args.town}", "compound": "all", "actor": args.actor_id, "town": args.town}
    if args.file:
        body.update(json.loads(Path(args.file).read_text(encoding="utf-8")))
    return await send_command(settings, "lockdown", f"town-{args.town}", "publish_playbook", body)


async def cmd_building_command(args, settings) -> int:
    tenant, body = _base(args)
    body["building"] = args.building
    name = args.command_name
    if name == "seal_building":
        body.update(town=args.town, reason=args.reason, ordered_by=args.ordered_by)
    elif name == "reschedule_episode":
        body.update(kind=args.kind, days=args.days or 0, reason=args.reason)
    elif name == "release_building":
        body.update(reason=args.reason or "")
    elif name == "complete_task":
        body.update(task_key=args.task, note=args.note or "")
    elif name == "publish_notice":
        body.update(template_key=args.template, compound_name=args.compound_name or "", hotline=args.hotline or "",
                    testing_place=args.testing_place or "", testing_time=args.testing_time)
    elif name == "join_group":
        kind = "household" if args.household else "party"
        body.update(kind=kind, household_id=args.household, party=args.party, display_name=args.name)
    elif name == "leave_group":
        body.update(member_id=args.member)
    elif name == "record_gate_pass":
        body.update(resident_id=args.resident, household_id=args.household, direction=args.direction,
                    reason=args.reason)
    return await send_command(settings, "lockdown", tenant, name, body)


async def cmd_view(args, settings) -> int:
    _, database_url = urls(settings)
    tenant = args.tenant or args.compound
    conn = await asyncpg.connect(database_url)
    try:
        data = await _view(conn, args, tenant)
    finally:
        await conn.close()
    print(json.dumps(data, ensure_ascii=False, default=str, indent=None if args.json else 2))
    return 0


async def _view(conn, args, tenant: str):
    now = _now()
    if args.view == "status":
        rows = await queries.episodes(conn, tenant, args.compound, active_only=not args.all)
        return [{"building": r["building_number"], "phase": r["phase"], "phase_zh": PHASE_ZH[r["phase"]],
                 "sealed_at": r["sealed_at"], "phase_ends_at": queries.phase_due(r),
                 "hours_left": round((queries.phase_due(r) - now).total_seconds() / 3600, 1) if queries.phase_due(r) else None,
                 "reason": r["reason"]} for r in rows]
    if args.view == "coverage":
        return await queries.coverage(conn, tenant, args.compound, args.building)
    if args.view == "out":
        return await queries.out_now(conn, tenant, args.compound, args.building, now)
    if args.view == "notices":
        return await queries.notices(conn, tenant, args.compound, args.building)
    if args.view in HEALTH_VIEWS:
        return await health_view(conn, args, tenant)
    episode = await queries.current_episode(conn, tenant, args.compound, args.building)
    return await queries.tasks(conn, tenant, episode["episode_id"], now) if episode else []


def _compound_building(p, tenant=True) -> None:
    p.add_argument("compound")
    p.add_argument("building")
    if tenant:
        p.add_argument("--tenant", help="residents' committee (default: the compound id)")


def add_parsers(sub) -> None:
    lockdown = sub.add_parser("lockdown", help="seal buildings, playbooks, notices, building group, gate log")
    verbs = lockdown.add_subparsers(dest="lockdown_verb", required=True)

    policy = verbs.add_parser("policy", help="set a town's policy (seal and monitoring days, report times)")
    policy.add_argument("town")
    policy.add_argument("--seal-days", type=float, default=2)
    policy.add_argument("--monitoring-days", type=float, default=12)
    policy.add_argument("--max-out-minutes", type=int, default=120)
    policy.add_argument("--report-times", default="08:00,14:00")
    policy.set_defaults(fn=cmd_policy)

    playbook = verbs.add_parser("playbook", help="publish a new version of the town's playbook (default or --file)")
    playbook.add_argument("town")
    playbook.add_argument("--file", help='JSON with "tasks" and/or "notices"')
    playbook.set_defaults(fn=cmd_playbook)

    def command(name: str, command_name: str, help_text: str):
        p = verbs.add_parser(name, help=help_text)
        _compound_building(p)
        p.set_defaults(fn=cmd_building_command, command_name=command_name)
        return p

    seal = command("seal", "seal_building", "seal a building (2-day seal, then 12-day health monitoring)")
    seal.add_argument("--reason", required=True)
    seal.add_argument("--ordered-by", required=True)
    seal.add_argument("--town", default="taopu")
    for kind in ("extend", "shorten", "reset"):
        p = command(kind, "reschedule_episode", f"{kind} the current episode, with a reason")
        p.add_argument("--reason", required=True)
        if kind != "reset":
            p.add_argument("--days", type=float, required=True)
        p.set_defaults(kind=kind, days=None) if kind == "reset" else p.set_defaults(kind=kind)
    release = command("release", "release_building", "release a building (before time only with --reason)")
    release.add_argument("--reason")
    complete = command("complete", "complete_task", "mark a playbook task done")
    complete.add_argument("task")
    complete.add_argument("--note")
    notice = command("notice", "publish_notice", "render and publish a notice from the playbook's templates")
    notice.add_argument("template")
    notice.add_argument("--compound-name")
    notice.add_argument("--hotline")
    notice.add_argument("--testing-time")
    notice.add_argument("--testing-place")
    join = command("join", "join_group", "add a household member or a service party to the building group")
    join.add_argument("--household")
    join.add_argument("--party", choices=["community_doctor", "police", "committee_cadre", "property_manager",
                                          "town_office"])
    join.add_argument("--name", required=True)
    leave = command("leave", "leave_group", "remove someone from the building group")
    leave.add_argument("member")
    gate = command("pass", "record_gate_pass", "record a resident going out or coming in")
    gate.add_argument("resident")
    gate.add_argument("--household", required=True)
    gate.add_argument("--direction", choices=["out", "in"], required=True)
    gate.add_argument("--reason", required=True)

    status = verbs.add_parser("status", help="buildings under lockdown with phase and time left")
    status.add_argument("compound")
    status.add_argument("--tenant")
    status.add_argument("--all", action="store_true", help="include released episodes")
    status.set_defaults(fn=cmd_view, view="status")
    for view, help_text in (("tasks", "the playbook tasks of a building, overdue flagged"),
                            ("coverage", "building group coverage: households with no member, parties missing"),
                            ("out", "who is out now, and who is out too long"),
                            ("notices", "notices published for a building")):
        p = verbs.add_parser(view, help=help_text)
        _compound_building(p)
        p.set_defaults(fn=cmd_view, view=view)
    add_health_parsers(verbs, cmd_view)
    for p in verbs.choices.values():
        if p.get_default("fn") is cmd_view and "--json" not in p._option_string_actions:
            p.add_argument("--json", action="store_true", help="compact JSON")
