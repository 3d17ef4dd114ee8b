"""`python -m services.registry [all|commands|projector]` — run the registry service."""
from shared.service_main import run_service
from services.registry.bootstrap import Registry


async def start(nats_url: str, database_url: str, parts: set[str]) -> Registry:
    return await Registry(nats_url, database_url).start(commands="commands" in parts, projector="projector" in parts)


if __name__ == "__main__":
    run_service("registry", ("commands", "projector"), start)
