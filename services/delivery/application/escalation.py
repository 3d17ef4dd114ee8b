"""Aged requests escalate to the building's responsible cadre (包干干部) on time, by themselves.
Like the lockdown schedule: reads what is due from the read model, issues a command with an id
derived from the request, so two instances or a restart never escalate twice."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Callable

import asyncpg

from shared.commands.delivery import EscalateDelivery
from shared.errors import DomainError
from shared.logging import get_logger
from services.delivery.application.service import DeliveryService

log = get_logger("louzu.delivery.escalation")

DUE = """
SELECT q.tenant, q.compound, q.request_id, COALESCE(c.cadre_id, 'committee') AS cadre_id
FROM proj_delivery.requests q
LEFT JOIN proj_delivery.cadres c ON c.tenant = q.tenant AND c.compound = q.compound AND c.building = q.building
WHERE q.status IN ('requested', 'accepted', 'assigned', 'picked_up', 'failed') AND q.escalated_to IS NULL
  AND q.requested_at <= $1 AND ($2::text IS NULL OR q.tenant = $2)
ORDER BY q.requested_at LIMIT 500
"""


class EscalationSchedule:
    def __init__(self, service: DeliveryService, pool: asyncpg.Pool, clock: Callable[[], datetime],
                 after: timedelta = timedelta(hours=2), tenant: str | None = None) -> None:
        self.service, self.pool, self.clock, self.after, self.tenant = service, pool, clock, after, tenant

    async def tick(self) -> int:
        async with self.pool.acquire() as conn:
            due = await conn.fetch(DUE, self.clock() - self.after, self.tenant)
        escalated = 0
        for row in due:
            command = EscalateDelivery(command_id=f"escalate:{row['request_id']}", tenant=row["tenant"],
                                       compound=row["compound"], actor="schedule", request_id=row["request_id"],
                                       to_cadre_id=row["cadre_id"])
            try:
                result = await self.service.execute(command)
            except DomainError as exc:
                log.warning("escalation.refused", request=row["request_id"], code=exc.problem.code)
                continue
            escalated += bool(result.event_ids and not result.duplicate)
        return escalated

    async def run(self, stop: asyncio.Event, interval: float = 30.0) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("escalation.tick_failed", error=type(exc).__name__)
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except asyncio.TimeoutError:
                pass
