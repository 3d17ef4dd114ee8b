"""`python -m services.gateway [all|commands|projector|http]` — run the gateway: the access commands,
its read model, and the HTTP server (LOUZU_HTTP_HOST, default 127.0.0.1; LOUZU_HTTP_PORT, default 8080)."""
import os

from shared.service_main import run_service
from shared.settings import PlatformSettings
from services.gateway.bootstrap import Gateway


async def start(nats_url: str, database_url: str, parts: set[str]) -> Gateway:
    settings = PlatformSettings()
    gateway = await Gateway(nats_url, database_url, settings.secrets_dir, public_url=settings.public_url).start(
        commands="commands" in parts, projector="projector" in parts)
    if "http" in parts:
        await gateway.serve(os.environ.get("LOUZU_HTTP_HOST", "127.0.0.1"), int(os.environ.get("LOUZU_HTTP_PORT", "8080")))
    return gateway


if __name__ == "__main__":
    run_service("gateway", ("commands", "projector", "http"), start)
