"""`louzu demo`: load Yinghuayuan (樱花苑, Taopu town) — or a generated compound or town of any
size — into the running system, through the same command path as an import."""
from __future__ import annotations

import time

from shared.crypto import KeyStore
from shared.settings import PlatformSettings
from services.registry.domain.identity import parse_flags
from services.registry.domain.importing import ImportReport, ResidentRow

CADRES = [("cadre-gao", "高敏"), ("cadre-li", "李文娟"), ("cadre-wang", "王秀英"), ("cadre-zhou", "周丽华"),
          ("cadre-chen", "陈美玲")]


def as_report(compound) -> ImportReport:
    rows = [ResidentRow(row=i + 2, building=r.building, entrance=r.entrance, room=r.room, name=r.name, sex=r.sex,
                        id_number=r.id_number, phone=r.phone, relation=r.relation, notes=r.notes,
                        flags=parse_flags(r.notes))
            for i, r in enumerate(compound.residents)]
    return ImportReport(valid=rows, rows_total=len(rows))


async def load_compound(session, compound, actor: str, index) -> dict:
    from services.registry.application.importing import Importer
    base = {"tenant": compound.tenant, "compound": compound.compound, "actor": actor}
    reply = await session.client.send("register_compound", {
        **base, "command_id": f"demo:compound:{compound.compound}", "display_name": compound.name, "town": compound.town})
    if not reply.get("ok"):
        raise RuntimeError(reply["error"]["message_en"])
    outcome = await Importer(session.client, KeyStore(session.pool), index, compound.tenant, compound.compound,
                             actor).run(as_report(compound))
    for i, building in enumerate(sorted({r.building for r in compound.residents}, key=lambda b: (len(b), b))):
        cadre_id, cadre_name = CADRES[i % len(CADRES)]
        await session.client.send("assign_building_cadre", {
            **base, "command_id": f"demo:cadre:{compound.compound}:{building}", "building": building,
            "cadre_id": cadre_id, "cadre_name": cadre_name})
    return {"residents": outcome.residents_added, "households": outcome.households_added,
            "buildings": outcome.buildings_added, "refused": len(outcome.refused), "unchanged": outcome.unchanged}


async def load_registry_demo(args, settings: PlatformSettings) -> list:
    """Load the demo compound(s) into the registry; returns what was generated."""
    from services.registry import demo
    from services.registry.entrypoints.cli import Session, blind_index
    if args.residents:
        compounds = (demo.generate_town(args.town, args.compounds, args.residents // args.compounds, args.seed)
                     if args.compounds > 1 else
                     [demo.generate_compound(args.tenant, args.tenant, "演示小区", args.residents, args.seed, town=args.town)])
    else:
        compounds = [demo.yinghuayuan()]
    index = blind_index(settings)
    started = time.monotonic()
    for compound in compounds:
        async with Session(settings, compound.tenant) as session:
            counts = await load_compound(session, compound, args.actor_id, index)
        print(f"{compound.name} ({compound.compound}): {counts['residents']} residents, {counts['households']} "
              f"households, {counts['buildings']} buildings added; {counts['unchanged']} unchanged; "
              f"{counts['refused']} refused")
    if not args.residents:
        account = set(compounds[0].account_buildings)
        sealed = [r for r in compounds[0].residents if r.building in account]
        households = {(r.building, r.entrance, r.room) for r in sealed}
        print(f"the account's buildings {', '.join(sorted(account))}: {len(households)} households, {len(sealed)} residents")
    print(f"registry loaded in {time.monotonic() - started:.1f} s")
    return compounds


def add_demo_parser(sub, fn) -> None:
    parser = sub.add_parser("demo", help="load the Yinghuayuan demo compound (or a generated one)")
    parser.add_argument("--residents", type=int, help="generate a compound (or town) of about N residents")
    parser.add_argument("--compounds", type=int, default=1, help="with --residents: spread them over K compounds")
    parser.add_argument("--tenant", default="demo", help="with --residents: committee/compound id")
    parser.add_argument("--town", default="taopu")
    parser.add_argument("--seed", type=int, default=20220323)
    parser.set_defaults(fn=fn)
