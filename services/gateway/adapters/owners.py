"""Asking the owning service what only it can answer, over NATS request–reply (shared/queries): a
roster print from the roster service, an import checked and carried out by the registry. The
question goes through the committee's own bus connection (it may ask for that committee only);
the files travel through the files bucket on the gateway's own connection, which may use the
Object Store and which no committee user can.

A missing or silent owner is a 503 with a bilingual message; an owner's refusal keeps its code,
messages and field (mapped to a status at the edge)."""
from __future__ import annotations

from datetime import datetime

from nats.aio.client import Client as NATS

from shared.commanding import ServiceUnavailable
from shared.errors import DomainError
from shared.queries import files
from shared.queries.base import StoredFile
from shared.queries.registry import MEDIA_TYPES as UPLOAD_TYPES
from shared.queries.registry import ImportResidents, ResidentsImported
from shared.queries.roster import PrintRoster, RosterPrinted
from shared.queries.serving import QueryClient

NAMES_ZH = {"roster": "名册", "registry": "登记"}


def unavailable(service: str) -> DomainError:
    return DomainError("service_unavailable", f"{service}（{NAMES_ZH.get(service, service)}）服务暂不可用，请稍后重试",
                       f"the {service} service is not available; retry shortly")


async def _ask(bus: NATS, tenant: str, service: str, name: str, query, timeout: float) -> dict:
    try:
        reply = await QueryClient(bus, tenant, service, timeout=timeout).ask(name, query)
    except ServiceUnavailable:
        raise unavailable(service) from None
    if not reply.get("ok"):
        error = reply["error"]
        raise DomainError(error["code"], error["message_zh"], error["message_en"], error.get("field"))
    return reply


async def print_roster(bus: NATS, files_nc: NATS, *, tenant: str, compound: str, building: str | None, fmt: str,
                       actor: str, as_of: datetime | None = None, clear_reason: str | None = None,
                       timeout: float = 120) -> tuple[bytes, str]:
    """(the file's bytes, its media type): one building, or the whole compound (`building` None)."""
    query = PrintRoster(tenant=tenant, compound=compound, actor=actor, building=building, format=fmt, as_of=as_of,
                        clear_reason=clear_reason)
    printed = RosterPrinted.model_validate(await _ask(bus, tenant, "roster", "print_roster", query, timeout))
    return await files.take(files_nc, printed.file, tenant), printed.file.media_type


async def import_sheet(bus: NATS, files_nc: NATS, *, tenant: str, compound: str, actor: str, data: bytes,
                       suffix: str, skip_invalid: bool = False, timeout: float = 120) -> dict:
    """The registry's outcome: imported, residents/households/buildings added, unchanged, and the
    refused rows ({row, column, code, message_zh, message_en})."""
    upload: StoredFile = await files.put(files_nc, "import", tenant, data, suffix=suffix,
                                         media_type=UPLOAD_TYPES[suffix], filename=f"upload.{suffix}")
    query = ImportResidents(tenant=tenant, compound=compound, actor=actor, upload=upload, skip_invalid=skip_invalid)
    try:
        reply = await _ask(bus, tenant, "registry", "import_residents", query, timeout)
    except DomainError:
        await files.discard(files_nc, upload)  # nobody took it: not left for 15 minutes
        raise
    return ResidentsImported.model_validate(reply).model_dump(exclude={"ok"})
