"""A projection runner in its own process, so tests can SIGKILL it:
`python -m tests.support.run_projector NAME SCHEMA TENANT [registry|roster]`."""
import asyncio
import os
import signal
import sys

import nats

from services.registry.projections.tables import RegistryProjection
from services.roster.projections.tables import RosterProjection
from shared.logging import configure_logging
from shared.projections.runner import ProjectionRunner

KINDS = {"registry": RegistryProjection, "roster": RosterProjection}


async def main(name: str, schema: str, tenant: str, kind: str = "registry") -> None:
    configure_logging("warning", json=True)
    nc = await nats.connect(os.environ["NATS_URL"])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    runner = ProjectionRunner(nc, os.environ["DATABASE_URL"], KINDS[kind](name, schema, tenant), batch=100)
    await runner.run(stop)
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
