"""Queue a projection batch's statements in order, then send them with as few round trips as
possible: consecutive uses of one statement become one pipelined `executemany`."""
from __future__ import annotations

import asyncpg


class Writes:
    def __init__(self) -> None:
        self._ops: list[tuple[str, list[tuple]]] = []

    def add(self, sql: str, *args) -> None:
        if self._ops and self._ops[-1][0] == sql:
            self._ops[-1][1].append(args)
        else:
            self._ops.append((sql, [args]))

    def add_many(self, sql: str, rows) -> None:
        for row in rows:
            self.add(sql, *row)

    async def flush(self, conn: asyncpg.Connection) -> None:
        for sql, rows in self._ops:
            if len(rows) == 1:
                await conn.execute(sql, *rows[0])
            else:
                await conn.executemany(sql, rows)
        self._ops.clear()
