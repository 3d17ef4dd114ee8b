"""`python -m services.registry [all|commands|projector|queries]` — run the registry service (queries:
imports of a cadre's sheet)."""
from shared.service_main import run_service
from shared.settings import PlatformSettings
from services.registry.bootstrap import Registry


async def start(nats_url: str, database_url: str, parts: set[str]) -> Registry:
    registry = Registry(nats_url, database_url, secrets_dir=PlatformSettings().secrets_dir)
    return await registry.start(commands="commands" in parts, projector="projector" in parts,
                                queries="queries" in parts)


if __name__ == "__main__":
    run_service("registry", ("commands", "projector", "queries"), start)
