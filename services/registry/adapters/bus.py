"""The registry as seen from a client: commands over NATS request–reply."""
from __future__ import annotations

import asyncio

import orjson
from nats.aio.client import Client as NATS
from nats.errors import NoRespondersError, TimeoutError as NatsTimeout

from shared.eventlog.subjects import command_subject


class RegistryUnavailable(RuntimeError):
    """No registry service answered."""


class RegistryClient:
    def __init__(self, nc: NATS, tenant: str, *, in_flight: int = 128, timeout: float = 15) -> None:
        self.nc, self.tenant, self.timeout = nc, tenant, timeout
        self._slots = asyncio.Semaphore(in_flight)

    async def send(self, name: str, body: dict) -> dict:
        """Send one command and return its reply; a lost reply is retried with the same command id."""
        subject = command_subject(self.tenant, "registry", name)
        payload = orjson.dumps(body)
        async with self._slots:
            for attempt in range(3):
                try:
                    reply = await self.nc.request(subject, payload, timeout=self.timeout)
                    return orjson.loads(reply.data)
                except NoRespondersError:
                    raise RegistryUnavailable("the registry service is not running (登记服务未运行)") from None
                except NatsTimeout:
                    if attempt == 2:
                        raise RegistryUnavailable("the registry service did not answer (登记服务无应答)") from None
        raise AssertionError("unreachable")
