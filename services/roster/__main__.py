"""`python -m services.roster [all|commands|projector|queries]` — run the roster service (queries:
roster prints, with the printer processes, LOUZU_PRINT_WORKERS)."""
from shared.service_main import run_service
from shared.settings import PlatformSettings
from services.roster.bootstrap import Roster


async def start(nats_url: str, database_url: str, parts: set[str]) -> Roster:
    settings = PlatformSettings()
    roster = Roster(nats_url, database_url, secrets_dir=settings.secrets_dir, public_url=settings.public_url,
                    print_workers=settings.print_workers)
    return await roster.start(commands="commands" in parts, projector="projector" in parts, queries="queries" in parts)


if __name__ == "__main__":
    run_service("roster", ("commands", "projector", "queries"), start)
