"""Printing a roster: one building or the whole compound, live or as of a past moment, masked by
default. A print with ID numbers and phones in clear needs a reason and is written to the personal
data access log before anything is decrypted."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import asyncpg
from nats.aio.client import Client as NATS

from shared.crypto import KeyStore
from shared.errors import DomainError
from shared.links import building_url
from shared.logging import get_logger
from services.roster.application.as_of import scratch_roster
from services.roster.domain.sheet import CompoundSheets
from services.roster.projections import queries

log = get_logger("louzu.roster")
FORMATS = ("pdf", "xlsx", "csv")
LIVE_SCHEMA = "proj_roster"


@dataclass(frozen=True)
class PrintRequest:
    tenant: str
    compound: str
    building: str | None  # None: every building of the compound, one file
    fmt: str
    actor: str
    as_of: datetime | None = None
    clear_reason: str | None = None  # set: ID numbers and phones in clear
    public_url: str = "http://localhost:8080"
    link_secret: bytes = b""  # signs the QR code's link; empty: the link opens nothing


def resident_url(public_url: str, secret: bytes, tenant: str, compound: str, building: str) -> str:
    """The building's resident page, which its QR code opens: a signed, expiring link."""
    return building_url(public_url, secret or b"unsigned", tenant, compound, building)


async def render(nc: NATS, dsn: str, req: PrintRequest, pool: asyncpg.Pool | None = None) -> bytes:
    """The file's bytes. `pool`: the service's own (else one is opened for this print, as the CLI does)."""
    from services.roster.adapters import printing
    if req.fmt not in FORMATS:
        raise DomainError("format", f"不支持的格式「{req.fmt}」：可选 pdf、xlsx、csv",
                          f"unknown format {req.fmt!r}: pdf, xlsx or csv", "format")
    doc = await assemble(nc, dsn, req, pool)
    renderer = {"pdf": printing.roster_pdf, "xlsx": printing.roster_xlsx, "csv": printing.roster_csv}[req.fmt]
    return await asyncio.to_thread(renderer, doc)  # seconds of CPU: not on the event loop


async def assemble(nc: NATS, dsn: str, req: PrintRequest, pool: asyncpg.Pool | None = None):
    if req.clear_reason is not None and not req.clear_reason.strip():
        raise DomainError("reason_required", "打印明文身份证号和手机号必须说明理由",
                          "printing ID numbers and phones in clear needs a reason", "reason")
    now = datetime.now(timezone.utc)
    if req.as_of is not None and req.as_of > now:
        raise DomainError("as_of_future", "查询时间不能晚于现在", "the as-of time is in the future", "as_of")
    own_pool = pool is None
    if own_pool:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        if req.clear_reason:
            await _log_clear(pool, req)
        keys = KeyStore(pool) if req.clear_reason else None
        if req.as_of is None:
            return await _sheets(pool, LIVE_SCHEMA, req, now, keys)
        async with scratch_roster(nc, dsn, req.tenant, req.compound, req.as_of) as schema:
            doc = await _sheets(pool, schema, req, req.as_of, keys)
        return _printed_at(doc, now)  # as of then, printed now
    finally:
        if own_pool:
            await pool.close()


async def _sheets(pool: asyncpg.Pool, schema: str, req: PrintRequest, moment: datetime, keys: KeyStore | None):
    def url(building: str) -> str:
        return resident_url(req.public_url, req.link_secret, req.tenant, req.compound, building)

    async with pool.acquire() as conn:
        try:
            if req.building is None:
                return await queries.compound_sheets(conn, schema, req.tenant, req.compound, moment, resident_url=url,
                                                     clear_with=keys, as_of=req.as_of)
            return await queries.building_sheet(conn, schema, req.tenant, req.compound, req.building, moment,
                                                resident_url=url(req.building), clear_with=keys, as_of=req.as_of)
        except queries.UnknownBuilding:
            what = f"{req.building} 号楼" if req.building else f"小区 {req.compound}"
            raise DomainError("unknown_building", f"找不到{what}（{'当时' if req.as_of else '目前'}没有登记）",
                              f"no such {'building ' + req.building if req.building else 'compound ' + req.compound}"
                              f"{' at that time' if req.as_of else ''}", "building") from None


def _printed_at(doc, now: datetime):
    if isinstance(doc, CompoundSheets):
        return replace(doc, generated_at=now, sheets=tuple(replace(s, generated_at=now) for s in doc.sheets))
    return replace(doc, generated_at=now)


async def _log_clear(pool: asyncpg.Pool, req: PrintRequest) -> None:
    what = f"roster {req.compound}/{req.building or '*'} {req.fmt} in clear"
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO louzu.pii_access_log (actor, tenant, what, reason) VALUES ($1, $2, $3, $4)",
                           req.actor, req.tenant, what, req.clear_reason)
    log.warning("pii.clear_print", actor=req.actor, tenant=req.tenant, what=what)
