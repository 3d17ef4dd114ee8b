"""The one way every service process runs: `python -m services.<name> [role]` starts the parts the
role names, logs that it started, and stops cleanly on SIGINT or SIGTERM."""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Awaitable, Callable, Protocol, Sequence


class Service(Protocol):
    async def close(self) -> None: ...


Start = Callable[[str, str, set[str]], Awaitable[Service]]


async def _serve(name: str, role: str, parts: Sequence[str], start: Start) -> None:
    from shared.logging import configure_logging, get_logger
    configure_logging(os.environ.get("LOUZU_LOG_LEVEL", "info"))
    wanted = set(parts) if role == "all" else {role}
    service = await start(os.environ["NATS_URL"], os.environ["DATABASE_URL"], wanted)
    get_logger(f"louzu.{name}").info(f"{name}.started", role=role)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await service.close()


def run_service(name: str, parts: Sequence[str], start: Start) -> None:
    """`parts` are the roles a process can take on its own (e.g. commands, projector); `all` runs them all."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{name}")
    parser.add_argument("role", nargs="?", default="all", choices=["all", *parts])
    asyncio.run(_serve(name, parser.parse_args().role, parts, start))


async def shut_down(tasks, server=None, pool=None, store=None, nc=None) -> None:
    """Stop a service's parts in order: background tasks (already told to stop), then the command
    server (in-flight commands finish), the database pool, the event store, and the connection."""
    await asyncio.wait_for(asyncio.gather(*[t for t in tasks if t is not None], return_exceptions=True), 15)
    for part, closing in ((server, "stop"), (pool, "close"), (store, "close"), (nc, "drain")):
        if part is not None:
            await getattr(part, closing)()
