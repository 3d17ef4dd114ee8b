"""The lockdown part of `louzu demo`: the account's buildings sealed, notices posted, building
groups formed, a morning's temperature reports for No. 38 and a testing round for the fourth
building — all through the command path, as cadres and volunteers would."""
from __future__ import annotations

import asyncio
import hashlib
import random
from datetime import datetime, timedelta, timezone

import asyncpg
from nats.aio.client import Client as NATS

from shared.commanding import CommandClient
from shared.events.lockdown import PARTIES


async def _households(pool: asyncpg.Pool, tenant: str, compound: str, building: str) -> dict[str, list[str]]:
    rows = await pool.fetch("SELECT h.household_id, r.resident_id FROM proj_lockdown.households h "
                            "JOIN proj_lockdown.residents r USING (tenant, compound, household_id) "
                            "WHERE h.tenant = $1 AND h.compound = $2 AND h.building = $3 AND r.status = 'living' "
                            "ORDER BY h.floor DESC, h.room, r.resident_id", tenant, compound, building)
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["household_id"], []).append(r["resident_id"])
    return out


async def wait_for_roster(pool: asyncpg.Pool, tenant: str, compound: str, buildings, expected: int,
                          timeout: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = await pool.fetchval("SELECT count(*) FROM proj_lockdown.residents r JOIN proj_lockdown.households h "
                                    "USING (tenant, compound, household_id) WHERE r.tenant = $1 AND r.compound = $2 "
                                    "AND h.building = ANY($3)", tenant, compound, list(buildings))
        if found >= expected:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("the lockdown service has not caught up with the registry; is it running?")


def sampling_code(resident_id: str) -> str:
    return "SH" + str(int(hashlib.sha256(resident_id.encode()).hexdigest()[:12], 16) % 10**10).zfill(10)


class DemoLockdown:
    def __init__(self, nc: NATS, pool: asyncpg.Pool, tenant: str, compound: str, compound_name: str, actor: str):
        self.client = CommandClient(nc, tenant, "lockdown")
        self.pool, self.tenant, self.compound, self.compound_name, self.actor = pool, tenant, compound, compound_name, actor
        self.rng = random.Random(20220321)

    async def send(self, name: str, command_id: str, **body) -> dict:
        return await self.client.send(name, {"command_id": f"demo:{self.compound}:{command_id}", "tenant": self.tenant,
                                             "compound": self.compound, "actor": self.actor, **body})

    async def run(self, buildings: tuple[str, ...]) -> dict:
        counts = {"sealed": 0, "members": 0, "reports": 0, "fevers": 0, "sampled": 0}
        for b in buildings:
            reply = await self.send("seal_building", f"seal:{b}", building=b, town="taopu", ordered_by="桃浦镇防控办",
                                    reason="楼内发现阳性感染者，按镇级标准化流程实施闭环管理")
            counts["sealed"] += bool(reply.get("ok") and reply["event_ids"] and not reply.get("duplicate"))
            await self.send("publish_notice", f"notice:{b}", building=b, template_key="sealing_notice",
                            compound_name=self.compound_name, hotline="021-62501234")
            counts["members"] += await self._group(b)
        reports, fevers = await self._reports(buildings[2] if len(buildings) > 2 else buildings[0])
        counts["reports"], counts["fevers"] = reports, fevers
        counts["sampled"] = await self._testing_round(buildings[-1])
        return counts

    async def _group(self, building: str) -> int:
        households = await _households(self.pool, self.tenant, self.compound, building)
        joins = [self.send("join_group", f"group:{building}:{hh}", building=building, kind="household",
                           household_id=hh, display_name=f"{hh.split('-')[-1]}室", member_id=f"hh-{hh}")
                 for hh in list(households)[1:]]  # one household has not joined yet: coverage shows it
        joins += [self.send("join_group", f"group:{building}:{p}", building=building, kind="party", party=p,
                            display_name=p, member_id=f"party-{p}") for p in PARTIES[:-1]]
        return sum(bool(r.get("ok")) for r in await asyncio.gather(*joins))

    async def _reports(self, building: str) -> tuple[int, int]:
        households = await _households(self.pool, self.tenant, self.compound, building)
        people = [(hh, rid) for hh, rids in households.items() for rid in rids]
        sends, fevers = [], 0
        for i, (hh, rid) in enumerate(people[:-4]):  # four residents have not reported: the follow-up list
            temperature = 37.8 if i in (5, 17) else round(self.rng.uniform(36.1, 37.0), 1)
            fevers += temperature >= 37.3
            sends.append(self.send("report_resident", f"report:{rid}", building=building, household_id=hh,
                                   resident_id=rid, temperature=temperature,
                                   need="家里没有体温计，请帮忙买一支" if i == 9 else ""))
        replies = await asyncio.gather(*sends)
        return sum(bool(r.get("ok")) for r in replies), fevers

    async def _testing_round(self, building: str) -> int:
        households = await _households(self.pool, self.tenant, self.compound, building)
        people = [(hh, rid) for hh, rids in households.items() for rid in rids]
        starts = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        round_id = f"demo_{building}_1"
        await self.send("schedule_testing_round", f"round:{round_id}", round_id=round_id, buildings=[building],
                        site="小区中心广场帐篷", starts_at=starts.isoformat(), top_floor=6)
        await asyncio.gather(*(self.send("book_sampling_code", f"code:{rid}", round_id=round_id, resident_id=rid,
                                         household_id=hh, code=sampling_code(rid))
                               for hh, rid in people))
        replies = await asyncio.gather(*(self.send("check_off_sample", f"sample:{rid}", round_id=round_id,
                                                   resident_id=rid, household_id=hh, tube_id=f"{building}-T{i // 10:03d}")
                                         for i, (hh, rid) in enumerate(people[:-2])))  # two not yet sampled
        return sum(bool(r.get("ok")) for r in replies)
