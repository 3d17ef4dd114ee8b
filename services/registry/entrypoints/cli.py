"""Registry verbs of `louzu`: compound, import, table, demo, erase."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import asyncpg
import nats

from shared.cli import STDOUT, NeedsOutputFile, print_reply, refuse_terminal, send_command, to_stdout, write_document
from shared.crypto import BlindIndex, KeyStore, load_or_create_secret
from shared.infra.system import urls
from shared.logging import get_logger
from shared.settings import PlatformSettings
from services.registry.adapters.bus import RegistryClient, RegistryUnavailable
from services.registry.adapters.spreadsheet import write_csv, write_xlsx
from services.registry.application.importing import Importer, check_file
from services.registry.domain.importing import report_lines
from services.registry.projections import queries

log = get_logger("louzu.registry.cli")


def blind_index(settings: PlatformSettings) -> BlindIndex:
    return BlindIndex(load_or_create_secret(settings.secrets_dir / "blind-index.key"))


class Session:
    """Connections for one CLI verb."""

    def __init__(self, settings: PlatformSettings, tenant: str) -> None:
        self.settings, self.tenant = settings, tenant

    async def __aenter__(self) -> "Session":
        nats_url, database_url = urls(self.settings)
        self.nc = await nats.connect(nats_url)
        self.pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
        self.client = RegistryClient(self.nc, self.tenant)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.pool.close()
        await self.nc.close()


async def cmd_compound(args, settings: PlatformSettings) -> int:
    tenant = args.tenant or args.compound
    return await send_command(settings, "registry", tenant, "register_compound", {
        "command_id": f"compound:{args.compound}", "tenant": tenant, "compound": args.compound,
        "actor": args.actor_id, "display_name": args.name, "town": args.town},
        ok_text=f"compound {args.compound} registered")


async def cmd_import(args, settings: PlatformSettings) -> int:
    path = Path(args.file)
    if not path.exists():
        print(f"找不到文件 / file not found: {path}", file=sys.stderr)
        return 2
    index = blind_index(settings)
    async with Session(settings, args.tenant or args.compound) as s:
        async with s.pool.acquire() as conn:
            report = await check_file(path, conn, index, s.tenant, args.compound)
        for line in report_lines(report):
            print(line, file=sys.stderr)
        if not report.ok and not args.skip_invalid:
            print(f"未导入任何数据：{len(report.bad_rows)} 行有错误。/ Nothing imported: {len(report.bad_rows)} row(s) "
                  "have errors. Fix them, or use --skip-invalid to import the good rows.", file=sys.stderr)
            return 1
        try:
            outcome = await Importer(s.client, KeyStore(s.pool), index, s.tenant, args.compound,
                                     args.actor_id).run(report, skip_invalid=args.skip_invalid)
        except RegistryUnavailable as exc:
            print(str(exc), file=sys.stderr)
            return 1
    for row, problem in outcome.refused:
        print(f"第 {row} 行 / row {row}: {problem.message_zh} / {problem.message_en}", file=sys.stderr)
    print(f"{outcome.residents_added} residents, {outcome.households_added} households, "
          f"{outcome.buildings_added} buildings added; {outcome.unchanged} already registered; "
          f"{len(report.bad_rows)} row(s) skipped; {len(outcome.refused)} refused")
    log.info("registry.import", tenant=s.tenant, compound=args.compound, file=path.name,
             residents_added=outcome.residents_added, skipped=len(report.bad_rows))
    return 0 if not outcome.refused and (report.ok or args.skip_invalid) else 1


async def cmd_table(args, settings: PlatformSettings) -> int:
    if args.clear and not args.reason:
        print("显示明文需要说明理由 (--reason) / showing clear values needs --reason", file=sys.stderr)
        return 2
    try:
        if args.format != "table":
            to_stdout(args.output, args.format, binary=args.format == "xlsx", example=f"{args.compound}.{args.format}")
    except NeedsOutputFile as exc:
        return refuse_terminal(exc)
    async with Session(settings, args.tenant or args.compound) as s:
        async with s.pool.acquire() as conn:
            keys = KeyStore(s.pool) if args.clear else None
            rows = await queries.resident_rows(conn, s.tenant, args.compound, building=args.building,
                                               household=args.household, clear_with=keys)
            summary = await queries.big_table(conn, s.tenant, args.compound)
            if args.clear:
                what = f"table {args.compound}" + (f" building {args.building}" if args.building else "")
                await queries.log_clear_access(conn, args.actor_id, s.tenant, what, args.reason)
                log.warning("pii.clear_read", actor=args.actor_id, tenant=s.tenant, what=what, reason=args.reason,
                            rows=len(rows))
    columns = [(key, label) for key, label in queries.TABLE_COLUMNS]
    if args.format == "table":
        _print_table(summary, rows, columns, args.building)
    else:
        write_document(_spreadsheet(args.format, columns, rows, bom=args.output not in (None, STDOUT)), args.output,
                       f"{len(rows)} residents")
    return 0


def _spreadsheet(fmt: str, columns, rows: list[dict], *, bom: bool) -> bytes:
    """The table as a CSV (UTF-8; with the BOM Excel needs when it is a file) or an XLSX document."""
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_xlsx(buffer, columns, rows)
        return buffer.getvalue()
    text = io.StringIO(newline="")
    write_csv(text, columns, rows)
    return ("\ufeff" if bom else "").encode() + text.getvalue().encode("utf-8")


async def cmd_erase(args, settings: PlatformSettings) -> int:
    """Erase one person (PIPL Art. 47): record why in the log, then destroy their key (crypto-shredding)."""
    async with Session(settings, args.tenant or args.compound) as s:
        reply = await s.client.send("erase_resident", {
            "command_id": f"erase:{args.resident_id}", "tenant": s.tenant, "compound": args.compound,
            "actor": args.actor_id, "resident_id": args.resident_id, "reason": args.reason})
        if not reply.get("ok"):
            return print_reply(reply)
        destroyed = await KeyStore(s.pool).erase(s.tenant, args.resident_id)
    log.warning("pii.erased", actor=args.actor_id, tenant=s.tenant, resident=args.resident_id, key_destroyed=destroyed)
    print(f"resident {args.resident_id} erased; key destroyed: {destroyed}")
    return 0


def _print_table(summary: list[dict], rows: list[dict], columns, building: str | None) -> None:
    from rich.console import Console
    from rich.table import Table
    console = Console()
    big = Table("楼号 building", "户 households", "人 residents", "包干干部 cadre", title="一小区一大表")
    for b in summary:
        if building is None or b["building"] == building:
            big.add_row(b["building"], str(b["households"]), str(b["residents"]), b["cadre_name"] or "")
    console.print(big)
    medium = Table(*[label for _, label in columns], title="居民 residents (masked)")
    for row in rows:
        medium.add_row(*[str(row[key]) for key, _ in columns])
    console.print(medium)
    console.print(f"{len(rows)} residents")


def add_parsers(sub) -> None:
    compound = sub.add_parser("compound", help="register a compound")
    compound.add_argument("compound")
    compound.add_argument("--name", required=True)
    compound.add_argument("--town", required=True)
    compound.add_argument("--tenant")
    compound.set_defaults(fn=cmd_compound)

    imp = sub.add_parser("import", help="import residents from the cadres' Excel/CSV")
    imp.add_argument("file")
    imp.add_argument("--compound", required=True)
    imp.add_argument("--tenant", help="residents' committee (default: the compound id)")
    imp.add_argument("--skip-invalid", action="store_true", help="import the good rows, report the rest")
    imp.set_defaults(fn=cmd_import)

    table = sub.add_parser("table", help="print the big/medium table, one row per resident (masked)")
    table.add_argument("compound")
    table.add_argument("--tenant")
    table.add_argument("--building", help="one building: the medium table (一楼一中表)")
    table.add_argument("--household", help="one household, e.g. 38-1-302: the small table (一户一小表)")
    table.add_argument("--format", choices=["table", "csv", "xlsx"], default="table")
    table.add_argument("-o", "--output", help="csv/xlsx file (default: standard output; an xlsx is not written to a "
                                              "terminal)")
    table.add_argument("--clear", action="store_true", help="show ID numbers and phones in clear (logged)")
    table.add_argument("--reason", help="why clear values are needed (required with --clear)")
    table.set_defaults(fn=cmd_table)

    erase = sub.add_parser("erase", help="erase a resident's personal data (destroys their key)")
    erase.add_argument("resident_id")
    erase.add_argument("--compound", required=True)
    erase.add_argument("--tenant")
    erase.add_argument("--reason", required=True, help="legal ground, e.g. the episode's purpose has ended")
    erase.set_defaults(fn=cmd_erase)

