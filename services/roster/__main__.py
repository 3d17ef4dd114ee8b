"""`python -m services.roster [all|commands|projector]` — run the roster service."""
from shared.service_main import run_service
from services.roster.bootstrap import Roster


async def start(nats_url: str, database_url: str, parts: set[str]) -> Roster:
    return await Roster(nats_url, database_url).start(commands="commands" in parts, projector="projector" in parts)


if __name__ == "__main__":
    run_service("roster", ("commands", "projector"), start)
