"""The roster's queries over NATS request–reply: a print, rendered here (in the service's printer
processes when they run) and put into the files bucket; the reply names the file.

The QR code's resident link is signed here with the deployment's link secret, read from the
secrets folder the roster service and the gateway share (`<LOUZU_HOME>/secrets/links.key`, as the
roster CLI reads it): the secret never travels on the bus, and the gateway opens the links."""
from __future__ import annotations

from pathlib import Path

import asyncpg
from faststream.nats import NatsBroker
from nats.aio.client import Client as NATS

from shared.crypto import load_or_create_secret
from shared.queries import files
from shared.queries.roster import MEDIA_TYPES, QUERIES, PrintRoster, RosterPrinted
from shared.queries.serving import register_queries
from services.roster.application.printing import PrintRequest, render

TITLE = "roster queries"
DESCRIPTION = "print_roster: a building's or the whole compound's roster, into the files bucket"
LINKS_KEY = "links.key"


class RosterQueries:
    def __init__(self, nc: NATS, dsn: str, pool: asyncpg.Pool, *, public_url: str, secrets_dir: Path | None) -> None:
        self.nc, self.dsn, self.pool, self.public_url, self.secrets_dir = nc, dsn, pool, public_url, secrets_dir
        self._secret = b""

    def link_secret(self) -> bytes:
        """Read on the first print, not at start-up: the gateway may be writing the file that moment."""
        if not self._secret and self.secrets_dir is not None:
            secret = load_or_create_secret(self.secrets_dir / LINKS_KEY)
            self._secret = secret if len(secret) == 32 else b""
        return self._secret

    async def handle(self, query: PrintRoster) -> RosterPrinted:
        req = PrintRequest(query.tenant, query.compound, query.building, query.format, query.actor, as_of=query.as_of,
                           clear_reason=query.clear_reason, public_url=self.public_url, link_secret=self.link_secret())
        data = await render(self.nc, self.dsn, req, self.pool)
        name = f"roster-{query.building or query.compound}.{query.format}"
        return RosterPrinted(file=await files.put(self.nc, "roster", query.tenant, data, suffix=query.format,
                                                  media_type=MEDIA_TYPES[query.format], filename=name))


def register_query_handlers(broker: NatsBroker, queries: RosterQueries) -> None:
    register_queries(broker, "roster", QUERIES, lambda query: queries.handle(query), title=TITLE,
                     description=DESCRIPTION)
