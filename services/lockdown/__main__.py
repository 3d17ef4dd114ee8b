"""`python -m services.lockdown [all|commands|projector|scheduler]` — run the lockdown service."""
from __future__ import annotations

import argparse
import asyncio
import os
import signal

from shared.logging import configure_logging, get_logger
from services.lockdown.bootstrap import Lockdown


async def main(role: str) -> None:
    configure_logging(os.environ.get("LOUZU_LOG_LEVEL", "info"))
    lockdown = await Lockdown(os.environ["NATS_URL"], os.environ["DATABASE_URL"]).start(
        commands=role in ("all", "commands"), projector=role in ("all", "projector"),
        scheduler=role in ("all", "scheduler"))
    get_logger("louzu.lockdown").info("lockdown.started", role=role)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await lockdown.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m services.lockdown")
    parser.add_argument("role", nargs="?", default="all", choices=["all", "commands", "projector", "scheduler"])
    asyncio.run(main(parser.parse_args().role))
