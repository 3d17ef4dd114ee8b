"""`python -m services.delivery [all|commands|projector|scheduler]` — run the delivery service."""
from __future__ import annotations

import argparse
import asyncio
import os
import signal

from shared.logging import configure_logging, get_logger
from services.delivery.bootstrap import Delivery


async def main(role: str) -> None:
    configure_logging(os.environ.get("LOUZU_LOG_LEVEL", "info"))
    delivery = await Delivery(os.environ["NATS_URL"], os.environ["DATABASE_URL"]).start(
        commands=role in ("all", "commands"), projector=role in ("all", "projector"),
        scheduler=role in ("all", "scheduler"))
    get_logger("louzu.delivery").info("delivery.started", role=role)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await delivery.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m services.delivery")
    parser.add_argument("role", nargs="?", default="all", choices=["all", "commands", "projector", "scheduler"])
    asyncio.run(main(parser.parse_args().role))
