"""Real servers for integration tests: started per session on free ports in a temporary folder,
or taken from NATS_URL / DATABASE_URL when set."""
from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from shared.infra.embedded import EmbeddedNats, EmbeddedPostgres


@dataclass
class Servers:
    nats_url: str
    database_url: str
    home: Path
    nats: EmbeddedNats | None = None
    postgres: EmbeddedPostgres | None = None

    def stop(self) -> None:
        if self.nats:
            self.nats.stop()
        if self.postgres:
            self.postgres.stop()


def start_servers() -> Servers:
    home = Path(tempfile.mkdtemp(prefix="louzu-test-"))
    nats_server = None if os.environ.get("NATS_URL") else EmbeddedNats(home).start()
    postgres = None if os.environ.get("DATABASE_URL") else EmbeddedPostgres(home).start()
    return Servers(os.environ.get("NATS_URL") or nats_server.url, os.environ.get("DATABASE_URL") or postgres.url,
                   home, nats_server, postgres)


def new_tenant() -> str:
    return "t" + uuid.uuid4().hex[:10]
