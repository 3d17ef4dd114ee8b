"""`python -m services.lockdown [all|commands|projector|scheduler]` — run the lockdown service."""
from shared.service_main import run_service
from services.lockdown.bootstrap import Lockdown


async def start(nats_url: str, database_url: str, parts: set[str]) -> Lockdown:
    return await Lockdown(nats_url, database_url).start(commands="commands" in parts, projector="projector" in parts,
                                                        scheduler="scheduler" in parts)


if __name__ == "__main__":
    run_service("lockdown", ("commands", "projector", "scheduler"), start)
