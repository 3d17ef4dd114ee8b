"""The registry as seen from a client: commands over NATS request–reply."""
from __future__ import annotations

from nats.aio.client import Client as NATS

from shared.commanding import CommandClient, ServiceUnavailable

RegistryUnavailable = ServiceUnavailable


class RegistryClient(CommandClient):
    def __init__(self, nc: NATS, tenant: str, *, in_flight: int = 128, timeout: float = 15) -> None:
        super().__init__(nc, tenant, "registry", in_flight=in_flight, timeout=timeout)
