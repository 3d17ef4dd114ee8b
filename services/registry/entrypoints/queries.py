"""The registry's queries over NATS request–reply: an import of a cadre's sheet. The gateway puts the
upload into the files bucket and asks; the registry takes the file (and deletes it), checks every row
against the residents it holds, and — if nothing is refused, or told to skip the refused rows —
registers buildings, households and residents through its own command handlers (in this process,
not over the bus), sealing the personal fields itself. The reply is the outcome, row by row."""
from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import asyncpg
from faststream.nats import NatsBroker
from nats.aio.client import Client as NATS

from shared.commanding import dispatch
from shared.commands.registry import COMMANDS
from shared.crypto import BlindIndex, KeyStore
from shared.errors import DomainError
from shared.queries import files
from shared.queries.registry import QUERIES, UPLOAD_SUFFIXES, ImportResidents, ResidentsImported, RowProblem
from shared.queries.serving import register_queries
from services.registry.application.importing import Importer, check_file
from services.registry.application.service import RegistryService

TITLE = "registry queries"
DESCRIPTION = "import_residents: a cadre's sheet from the files bucket, checked row by row, then registered"


class LocalCommands:
    """The importer's commands, executed by this registry's own handlers (as the bus would, at most
    `in_flight` at once): the same replies, no round trip, and no permission to send to itself."""

    def __init__(self, service: RegistryService, tenant: str, in_flight: int = 128) -> None:
        self.service, self.tenant = service, tenant
        self._slots = asyncio.Semaphore(in_flight)

    async def send(self, name: str, body: dict) -> dict:
        async with self._slots:
            return await dispatch(COMMANDS, self.service.execute, self.tenant, name, body)


class RegistryQueries:
    def __init__(self, nc: NATS, pool: asyncpg.Pool, index: BlindIndex | None, service: RegistryService) -> None:
        self.nc, self.pool, self.index, self.service = nc, pool, index, service

    async def handle(self, query: ImportResidents) -> ResidentsImported:
        suffix = query.upload.object.rsplit(".", 1)[-1]
        if suffix not in UPLOAD_SUFFIXES:
            raise DomainError("format", "只接受 .xlsx 或 .csv 文件", "only .xlsx or .csv files are accepted", "file")
        if self.index is None:
            raise DomainError("service_unavailable", "登记服务未配置密钥目录，暂不能导入",
                              "the registry has no secrets folder: it cannot import", "file")
        data = await files.take(self.nc, query.upload, query.tenant)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"upload.{suffix}"
            path.write_bytes(data)
            async with self.pool.acquire() as conn:
                report = await check_file(path, conn, self.index, query.tenant, query.compound)
        errors = [RowProblem(row=e.row, column=e.field, code=e.code, message_zh=e.message_zh, message_en=e.message_en)
                  for e in report.header_errors + report.errors]
        if not report.ok and not query.skip_invalid:
            return ResidentsImported(imported=False, residents_added=0, households_added=0, buildings_added=0,
                                     unchanged=0, errors=errors)
        outcome = await Importer(LocalCommands(self.service, query.tenant), KeyStore(self.pool), self.index,
                                 query.tenant, query.compound, query.actor).run(report, skip_invalid=query.skip_invalid)
        errors += [RowProblem(row=row, column=p.field or "", code=p.code, message_zh=p.message_zh,
                              message_en=p.message_en) for row, p in outcome.refused]
        return ResidentsImported(imported=outcome.residents_added > 0 or outcome.unchanged > 0,
                                 residents_added=outcome.residents_added, households_added=outcome.households_added,
                                 buildings_added=outcome.buildings_added, unchanged=outcome.unchanged, errors=errors)


def register_query_handlers(broker: NatsBroker, queries: RegistryQueries) -> None:
    register_queries(broker, "registry", QUERIES, lambda query: queries.handle(query), title=TITLE,
                     description=DESCRIPTION)
