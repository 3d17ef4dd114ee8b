"""The roster part of `louzu demo`: the account's "party-member vanguard gate post" (黨員先鋒門崗).
Four party committee members staff the first sealed building in pairs, one day on, one day off,
08:30–12:30 and 13:00–17:00; as the next buildings are sealed more party members join, until
thirteen; the committee asks the town for reinforcements and two people come from a neighbouring
compound. Everything goes through the command path."""
from __future__ import annotations

import asyncio

import asyncpg
from nats.aio.client import Client as NATS

from shared.commanding import CommandClient

FIRST_FOUR = (("dz-zhou", "周建华"), ("dz-chen", "陈美玲"), ("dz-wu", "吴志强"), ("dz-sun", "孙丽萍"))
NINE_MORE = (("dy-zhao", "赵国庆"), ("dy-qian", "钱秀兰"), ("dy-feng", "冯德明"), ("dy-wei", "卫桂英"),
             ("dy-jiang", "蒋永福"), ("dy-shen", "沈玉珍"), ("dy-han", "韩建国"), ("dy-yang", "杨淑芬"),
             ("dy-zhu", "朱卫东"))
CADRES = (("jw-yuan", "袁廷海"), ("jw-li", "李文娟"))
NEIGHBOURS = (("zb-he", "何晓东"), ("zb-lv", "吕春梅"))


class DemoRota:
    def __init__(self, nc: NATS, pool: asyncpg.Pool, tenant: str, compound: str, actor: str) -> None:
        self.client = CommandClient(nc, tenant, "roster")
        self.pool, self.tenant, self.compound, self.actor = pool, tenant, compound, actor

    async def send(self, name: str, command_id: str, **body) -> dict:
        reply = await self.client.send(name, {"command_id": f"demo:{self.compound}:{command_id}", "tenant": self.tenant,
                                              "compound": self.compound, "actor": self.actor, **body})
        if not reply.get("ok"):
            raise RuntimeError(f"{name}: {reply['error']['message_en']}")
        await self._caught_up(reply.get("last_seq") or 0)
        return reply

    async def _caught_up(self, seq: int, timeout: float = 60) -> None:
        """Wait until the roster read model has applied the log up to `seq`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            done = await self.pool.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = 'roster'")
            if (done or 0) >= seq:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("the roster service has not caught up with the log; is it running?")

    async def _enroll(self, people, role: str) -> None:
        for person_id, name in people:
            await self.send("enroll_duty_person", f"enroll:{person_id}", person_id=person_id, person_name=name,
                            role=role)

    async def _post(self, building: str) -> None:
        await self._wait_for_seal(building)
        await self.send("open_gate_post", f"post:{building}", building=building)

    async def run(self, buildings: tuple[str, ...], town: str = "taopu") -> dict:
        await self._enroll(FIRST_FOUR, "party_volunteer")
        await self._enroll(CADRES, "committee_cadre")
        await self._post(buildings[0])
        first = await self.send("plan_rota", "plan:first")
        await self._enroll(NINE_MORE, "party_volunteer")
        for b in buildings[1:]:
            await self._post(b)
        request = await self.send("request_reinforcement", "reinforce:1", request_id="rf-yinghuayuan-1", town=town,
                                  people=len(NEIGHBOURS), from_day=await self._first_day(),
                                  until_day=await self._last_day(), reason="四个楼栋先后封控，门岗人手不足")
        await self.send("dispatch_reinforcement", "dispatch:1", request_id="rf-yinghuayuan-1", people=[
            {"person_id": pid, "name": name, "from_compound": "lanxiyuan"} for pid, name in NEIGHBOURS])
        await self.send("plan_rota", "plan:all")
        for day in await self._days():
            await self.send("set_standby", f"standby:{day}", day=day, person_ids=[pid for pid, _ in CADRES])
        return {"people": len(FIRST_FOUR) + len(NINE_MORE), "reinforcements": len(NEIGHBOURS),
                "posts": len(buildings), "first_plan": bool(first["event_ids"]) and not first.get("duplicate"), "request": bool(request),
                "gaps": await self._gaps()}

    async def _wait_for_seal(self, building: str, timeout: float = 60) -> None:
        """The post's days come from the building's episode: wait until the roster has seen the seal."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await self.pool.fetchval("SELECT phase FROM proj_roster.buildings WHERE tenant = $1 AND compound = $2 "
                                        "AND building = $3", self.tenant, self.compound, building) == "sealed":
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"the roster service has not seen building {building} sealed; is it running?")

    async def _first_day(self) -> str:
        return str(await self.pool.fetchval("SELECT min(start_day) FROM proj_roster.posts WHERE tenant = $1 "
                                            "AND compound = $2", self.tenant, self.compound))

    async def _last_day(self) -> str:
        return str(await self.pool.fetchval("SELECT max(end_day) FROM proj_roster.posts WHERE tenant = $1 "
                                            "AND compound = $2", self.tenant, self.compound))

    async def _days(self) -> list[str]:
        rows = await self.pool.fetch("SELECT DISTINCT day FROM proj_roster.shifts WHERE tenant = $1 AND compound = $2 "
                                     "ORDER BY day", self.tenant, self.compound)
        return [str(r["day"]) for r in rows]

    async def _gaps(self) -> int:
        return await self.pool.fetchval("SELECT count(*) FROM proj_roster.shifts WHERE tenant = $1 AND compound = $2 "
                                        "AND cardinality(people) < 2", self.tenant, self.compound)
