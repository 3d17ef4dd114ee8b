"""Services started for a test and always closed: if one fails to start, those already running are
closed before the error reaches pytest. (A service left running would answer the next tests'
commands with its own clock and its own state.)"""
from __future__ import annotations

from contextlib import asynccontextmanager, suppress
from typing import AsyncIterator


@asynccontextmanager
async def running(*services) -> AsyncIterator[list]:
    started: list = []
    try:
        for service in services:
            try:
                started.append(await service.start())
            except BaseException:
                with suppress(Exception):
                    await service.close()  # whatever it had opened before it failed
                raise
        yield started
    finally:
        for service in reversed(started):
            await service.close()
