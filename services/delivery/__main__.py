"""`python -m services.delivery [all|commands|projector|scheduler]` — run the delivery service."""
from shared.service_main import run_service
from services.delivery.bootstrap import Delivery


async def start(nats_url: str, database_url: str, parts: set[str]) -> Delivery:
    return await Delivery(nats_url, database_url).start(commands="commands" in parts, projector="projector" in parts,
                                                        scheduler="scheduler" in parts)


if __name__ == "__main__":
    run_service("delivery", ("commands", "projector", "scheduler"), start)
