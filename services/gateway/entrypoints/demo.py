"""The gateway part of `louzu demo`: sign-ins for the town administrator and dispatcher of Taopu, a Yinghuayuan
committee cadre and a party-member volunteer of its gate post (the passwords are printed by
`louzu up`; change them for anything but a demonstration)."""
from __future__ import annotations

import uuid

from nats.aio.client import Client as NATS

from shared.commanding import CommandClient
from shared.events.gateway import USERS_TENANT
from services.gateway.application.access import hash_password

DEMO_USERS = (
    ("taopu-admin", "桃浦镇管理员", "taopu-admin-2022", [{"role": "town_admin"}]),
    ("taopu-dispatch", "桃浦镇调度", "taopu-2022", [{"role": "town_dispatcher"}]),
    ("yhy-cadre", "李文娟", "yinghuayuan-2022", [{"role": "committee_cadre", "grant_tenant": "yinghuayuan"}]),
    ("dz-zhou", "周建华", "volunteer-2022", [{"role": "volunteer", "grant_tenant": "yinghuayuan",
                                             "grant_compound": "yinghuayuan"}]),
)


async def load_sign_ins(nc: NATS, town: str, actor: str) -> int:
    client = CommandClient(nc, USERS_TENANT, "gateway")
    base = {"tenant": USERS_TENANT, "compound": "all", "actor": actor}
    made = 0
    for user_id, name, password, grants in DEMO_USERS:
        reply = await client.send("register_user", {**base, "command_id": f"demo:user:{user_id}", "user_id": user_id,
                                                    "display_name": name, "town": town,
                                                    "password_hash": hash_password(password)})
        made += bool(reply.get("ok"))
        for grant in grants:
            await client.send("grant_role", {**base, "command_id": uuid.uuid4().hex, "user_id": user_id, **grant})
    return made
