"""`louzu` — the command line for cadres, operators and auditors. Every verb works against the
running system (`louzu up`, or NATS_URL / DATABASE_URL)."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys

from shared.logging import configure_logging
from shared.settings import PlatformSettings

EXIT_INVALID = 2


def projections():
    from services.delivery.projections.tables import DeliveryProjection
    from services.lockdown.projections.tables import LockdownProjection
    from services.registry.projections.tables import RegistryProjection
    from services.roster.projections.tables import RosterProjection
    from services.gateway.projections.tables import GatewayProjection
    from services.gateway.projections.views import GatewayViews
    return {p.name: p for p in (RegistryProjection(), LockdownProjection(), DeliveryProjection(), RosterProjection(),
                                GatewayProjection(), GatewayViews())}


def contracts():
    """Every service's NATS contract, as each service declares it."""
    from services.delivery.entrypoints.asyncapi import CONTRACT as delivery
    from services.gateway.entrypoints.asyncapi import CONTRACT as gateway
    from services.lockdown.entrypoints.asyncapi import CONTRACT as lockdown
    from services.registry.entrypoints.asyncapi import CONTRACT as registry
    from services.roster.entrypoints.asyncapi import CONTRACT as roster
    return {c.service: c for c in (registry, lockdown, delivery, roster, gateway)}


def actor(args) -> str:
    return args.actor or os.environ.get("LOUZU_ACTOR") or f"cli:{getpass.getuser()}"


def cmd_up(args, settings: PlatformSettings) -> int:
    from shared.infra.system import AlreadyRunning, up
    try:
        return up(settings, list(projections().values()))
    except AlreadyRunning as exc:
        print(f"{exc}\n樓組系统已在运行。", file=sys.stderr)
        return 1


async def cmd_migrate(args, settings: PlatformSettings) -> int:
    from shared.infra.system import prepare, urls
    nats_url, database_url = urls(settings)
    await prepare(nats_url, database_url, settings.secrets_dir, list(projections().values()))
    print("migrations applied, streams ready")
    return 0


async def cmd_status(args, settings: PlatformSettings) -> int:
    from shared.infra.status import status
    from shared.infra.system import urls
    nats_url, database_url = urls(settings)
    report = await status(settings, nats_url, database_url, list(projections().values()))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table
    console = Console()
    console.print(f"NATS {report['nats_url']}   PostgreSQL {report['database_url']}")
    if report.get("nats_context"):
        console.print(f"NATS CLI: nats --context {report['nats_context']} …", highlight=False, soft_wrap=True)
    console.print("services: " + ", ".join(f"{k} {'running' if v else 'stopped'}" for k, v in report["services"].items()))
    table = Table("projection", "last_seq", "lag", "dead letters")
    for name, p in report["projections"].items():
        table.add_row(name, str(p["last_seq"]), str(p["lag"]), str(p["dead_letters"]))
    console.print(table)
    return 0


async def cmd_replay(args, settings: PlatformSettings) -> int:
    import nats
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from shared.infra.system import urls
    from shared.projections.rebuild import replay
    known = projections()
    if args.projection not in known:
        print(f"unknown projection {args.projection!r}; known: {', '.join(known)}", file=sys.stderr)
        return EXIT_INVALID
    nats_url, database_url = urls(settings)
    nc = await nats.connect(nats_url)
    last = (await nc.jetstream().stream_info("LOUZU_EVENTS")).state.last_seq
    loop = asyncio.get_running_loop()
    started = loop.time()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("seq {task.completed:.0f}/{task.total:.0f}"),
                  TextColumn("{task.fields[rate]:,.0f} events/s"), TimeElapsedColumn()) as bar:
        task = bar.add_task(f"replay {args.projection}", total=max(last, 1), rate=0.0)

        def progress(runner):
            elapsed = max(loop.time() - started, 1e-6)
            bar.update(task, completed=runner.last_seq, rate=runner.applied / elapsed)
        applied = await replay(nc, database_url, known[args.projection], progress=progress)
    await nc.close()
    elapsed = loop.time() - started
    print(f"replayed {applied} events into {args.projection} in {elapsed:.1f} s ({applied / max(elapsed, 1e-6):,.0f} events/s); swapped")
    return 0


async def cmd_verify(args, settings: PlatformSettings) -> int:
    import nats
    from shared.infra.system import urls
    from shared.projections.rebuild import verify
    nats_url, database_url = urls(settings)
    nc = await nats.connect(nats_url)
    failed = 0
    try:
        for name, projection in projections().items():
            differences = await verify(nc, database_url, projection)
            if not differences:
                print(f"{name}: equal to a replay of the log")
                continue
            failed += 1
            for diff in differences:
                print(f"{name}.{diff.table}: {len(diff.only_live)} row(s) only in the live table, "
                      f"{len(diff.only_rebuilt)} only in the replay")
                for row in diff.only_live[:5]:
                    print(f"  live:   {_short_row(row)}")
                for row in diff.only_rebuilt[:5]:
                    print(f"  replay: {_short_row(row)}")
    finally:
        await nc.close()
    return 1 if failed else 0


def cmd_asyncapi(args, settings: PlatformSettings) -> int:
    from pathlib import Path
    from shared.asyncapi import drift, write_documents
    known = contracts()
    unknown = [s for s in args.service if s not in known]
    if unknown:
        print(f"unknown service {unknown[0]!r}; known: {', '.join(known)}", file=sys.stderr)
        return EXIT_INVALID
    chosen = [known[s] for s in args.service or known]
    directory = Path(args.dir)
    if not args.check:
        for path in write_documents(chosen, directory):
            print(f"wrote {path}")
        return 0
    stale = [(c.service, diff) for c in chosen if (diff := drift(c, directory)) is not None]
    for service, diff in stale:
        print(f"{directory / service}.json is out of date with the code:\n{diff}\n", file=sys.stderr)
    if stale:
        print("regenerate with `louzu asyncapi` and commit the documents", file=sys.stderr)
    return 1 if stale else 0


def _short_row(row: dict) -> str:
    hidden = {"id_number_sealed", "phone_sealed", "id_hash"}
    return ", ".join(f"{k}={v}" for k, v in row.items() if k not in hidden)


async def cmd_demo(args, settings: PlatformSettings) -> int:
    """Yinghuayuan through every service: the registry, then the account's buildings sealed, with
    groups, a morning's reports and a testing round."""
    import asyncpg
    import nats
    from shared.infra.system import urls
    from services.delivery.entrypoints.demo import load_delivery_demo
    from services.lockdown.entrypoints.demo import DemoLockdown, wait_for_roster
    from services.registry.entrypoints.demo_cli import load_registry_demo
    from services.roster.entrypoints.demo import DemoRota
    from services.gateway.entrypoints.demo import load_sign_ins
    compounds = await load_registry_demo(args, settings)
    if args.residents:
        return 0
    compound = compounds[0]
    nats_url, database_url = urls(settings)
    nc = await nats.connect(nats_url)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        sealed = [r for r in compound.residents if r.building in compound.account_buildings]
        await wait_for_roster(pool, compound.tenant, compound.compound, compound.account_buildings, len(sealed))
        counts = await DemoLockdown(nc, pool, compound.tenant, compound.compound, compound.name,
                                    args.actor_id).run(tuple(compound.account_buildings))
        supplies = await load_delivery_demo(nc, pool, compound.tenant, compound.compound,
                                            tuple(compound.account_buildings), args.actor_id)
        rota = await DemoRota(nc, pool, compound.tenant, compound.compound, args.actor_id).run(
            tuple(compound.account_buildings))
        await load_sign_ins(nc, "taopu", args.actor_id)
    finally:
        await pool.close()
        await nc.close()
    print(f"lockdown: {counts['sealed']} buildings sealed, {counts['members']} building-group members, "
          f"{counts['reports']} temperature reports ({counts['fevers']} fevers), {counts['sampled']} residents sampled")
    print(f"delivery: {supplies['requests']} supply requests ({supplies['delivered']} already delivered), "
          f"{supplies['orders']} group-purchase orders")
    print(f"rota: {rota['posts']} gate posts, {rota['people']} party-member volunteers in pairs and "
          f"{rota['reinforcements']} reinforcements from a neighbouring compound; {rota['gaps']} shifts short "
          f"(louzu rota gaps {compound.compound})")
    from shared.infra.system import DEMO_SIGN_INS, read_state
    print(f"consoles: {read_state(settings).get('http_url') or 'start louzu up'} — sign in as {DEMO_SIGN_INS}")
    return 0


def add_registry_verbs(sub) -> None:
    from services.registry.entrypoints import cli as registry_cli
    registry_cli.add_parsers(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="louzu", description="Louzu 樓組 — building lockdowns, run from events.")
    parser.add_argument("--actor", help="who is acting (default: LOUZU_ACTOR or cli:<user>)")
    sub = parser.add_subparsers(dest="verb", required=True)
    sub.add_parser("up", help="start servers and every service in the foreground (Ctrl-C stops)").set_defaults(fn=cmd_up)
    sub.add_parser("migrate", help="apply migrations and create streams on NATS_URL / DATABASE_URL").set_defaults(
        fn=cmd_migrate)
    status = sub.add_parser("status", help="servers, services, projection checkpoints and lag")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(fn=cmd_status)
    replay = sub.add_parser("replay", help="rebuild a projection from sequence 1 and swap it in")
    replay.add_argument("projection")
    replay.set_defaults(fn=cmd_replay)
    sub.add_parser("verify", help="rebuild every projection into scratch tables and compare").set_defaults(fn=cmd_verify)
    asyncapi = sub.add_parser("asyncapi", help="write every service's AsyncAPI document (docs/asyncapi/<service>.json)")
    asyncapi.add_argument("service", nargs="*", help="only these services (default: all)")
    asyncapi.add_argument("--dir", default="docs/asyncapi", help="where the documents are (default: docs/asyncapi)")
    asyncapi.add_argument("--check", action="store_true", help="write nothing; fail with a diff if a document drifts")
    asyncapi.set_defaults(fn=cmd_asyncapi)
    add_registry_verbs(sub)
    from services.lockdown.entrypoints import cli as lockdown_cli
    lockdown_cli.add_parsers(sub)
    from services.delivery.entrypoints import cli as delivery_cli
    delivery_cli.add_parsers(sub)
    from services.roster.entrypoints import cli as roster_cli
    roster_cli.add_parsers(sub)
    from services.gateway.entrypoints import cli as gateway_cli
    gateway_cli.add_parsers(sub)
    from services.registry.entrypoints.demo_cli import add_demo_parser
    add_demo_parser(sub, cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = PlatformSettings()
    configure_logging(settings.log_level)
    args.actor_id = actor(args)
    try:
        result = args.fn(args, settings)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - a cadre gets a message, the operator the trace (LOUZU_DEBUG=1)
        if os.environ.get("LOUZU_DEBUG"):
            raise
        print(f"出错了：{type(exc).__name__}。请稍后重试或联系管理员（LOUZU_DEBUG=1 可显示详情）。\n"
              f"Something went wrong: {type(exc).__name__}: {_safe(exc)}. Retry, or set LOUZU_DEBUG=1 for details.",
              file=sys.stderr)
        return 1


def _safe(exc: Exception) -> str:
    from shared.logging import _scrub
    return str(_scrub(str(exc)))[:300]


if __name__ == "__main__":
    sys.exit(main())
