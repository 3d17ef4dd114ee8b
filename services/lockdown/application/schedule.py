"""Phase changes on time. The schedule reads which episodes are due from the projection and
issues `AdvancePhase`; the building aggregate decides. A replay never fires anything (it only
rebuilds tables), two instances never fire twice (same command id, and the log's optimistic
concurrency), and a service that was down catches up at its first tick."""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Callable

import asyncpg

from shared.commands.lockdown import AdvancePhase
from shared.errors import DomainError
from shared.logging import get_logger
from services.lockdown.application.service import LockdownService

log = get_logger("louzu.lockdown.schedule")

DUE = """
SELECT tenant, compound, building_number, episode_id, phase,
       CASE WHEN phase = 'sealed' THEN seal_ends_at ELSE monitoring_ends_at END AS due_at
FROM "{s}".episodes
WHERE ((phase = 'sealed' AND seal_ends_at <= $1) OR (phase = 'health_monitoring' AND monitoring_ends_at <= $1))
  AND ($2::text IS NULL OR tenant = $2)
ORDER BY due_at
LIMIT 500
"""


class PhaseSchedule:
    def __init__(self, service: LockdownService, pool: asyncpg.Pool, clock: Callable[[], datetime],
                 schema: str = "proj_lockdown", tenant: str | None = None) -> None:
        """`tenant` confines this schedule to one committee (None: all of them)."""
        self.service, self.pool, self.clock, self.schema, self.tenant = service, pool, clock, schema, tenant

    async def tick(self) -> int:
        """Advance every episode that is due now; returns how many commands changed something."""
        async with self.pool.acquire() as conn:
            due = await conn.fetch(DUE.format(s=self.schema), self.clock(), self.tenant)
        fired = 0
        for row in due:
            command = AdvancePhase(
                command_id=f"advance:{row['episode_id']}:{row['phase']}:{row['due_at'].isoformat()}",
                tenant=row["tenant"], compound=row["compound"], actor="schedule", building=row["building_number"],
                episode_id=row["episode_id"])
            try:
                result = await self.service.execute(command)
            except DomainError as exc:
                log.warning("schedule.refused", episode=row["episode_id"], code=exc.problem.code)
                continue
            if result.event_ids and not result.duplicate:
                fired += 1
                log.info("schedule.advanced", tenant=row["tenant"], building=row["building_number"],
                         episode=row["episode_id"], events=len(result.event_ids))
        return fired

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("schedule.tick_failed", error=type(exc).__name__)
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except asyncio.TimeoutError:
                pass
