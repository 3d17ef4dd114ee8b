"""`louzu user …`: sign-ins and role grants (the password is hashed here; only the hash travels)."""
from __future__ import annotations

import getpass
import json
import os
import sys
import uuid

import nats

from shared.commanding import CommandClient, ServiceUnavailable
from shared.errors import DomainError
from shared.events.gateway import ROLES, USERS_TENANT
from shared.infra.system import urls


async def send(nats_url: str, name: str, body: dict) -> dict:
    nc = await nats.connect(nats_url)
    try:
        return await CommandClient(nc, USERS_TENANT, "gateway").send(name, {
            "command_id": uuid.uuid4().hex, "tenant": USERS_TENANT, "compound": "all", **body})
    finally:
        await nc.close()


async def cmd_user(args, settings) -> int:
    from services.gateway.application.access import hash_password
    nats_url, _ = urls(settings)
    try:
        if args.user_verb == "add":
            password = args.password or os.environ.get("LOUZU_NEW_PASSWORD") or getpass.getpass("密码 / password: ")
            body = {"actor": args.actor_id, "user_id": args.user_id, "display_name": args.name or args.user_id,
                    "town": args.town, "password_hash": hash_password(password)}
            reply = await send(nats_url, "register_user", body)
        else:
            name = {"grant": "grant_role", "revoke": "revoke_role"}[args.user_verb]
            reply = await send(nats_url, name, {"actor": args.actor_id, "user_id": args.user_id, "role": args.role,
                                                "grant_tenant": args.grant_tenant or "",
                                                "grant_compound": args.grant_compound or "",
                                                "household_id": args.household or ""})
    except (DomainError, ServiceUnavailable) as exc:
        problem = getattr(exc, "problem", None)
        print(f"{problem.message_zh}\n{problem.message_en}" if problem else str(exc), file=sys.stderr)
        return 1
    if reply.get("ok"):
        print(json.dumps(reply, ensure_ascii=False))
        return 0
    print(f"{reply['error']['message_zh']}\n{reply['error']['message_en']}", file=sys.stderr)
    return 1


def add_parsers(sub) -> None:
    user = sub.add_parser("user", help="sign-ins and role grants for the consoles")
    verbs = user.add_subparsers(dest="user_verb", required=True)
    add = verbs.add_parser("add", help="create a sign-in (asks for the password)")
    add.add_argument("user_id")
    add.add_argument("--name")
    add.add_argument("--town", required=True)
    add.add_argument("--password", help="(prefer the prompt, or LOUZU_NEW_PASSWORD)")
    add.set_defaults(fn=cmd_user)
    for verb in ("grant", "revoke"):
        p = verbs.add_parser(verb, help=f"{verb} a role: " + ", ".join(ROLES))
        p.add_argument("user_id")
        p.add_argument("--role", required=True, choices=ROLES)
        p.add_argument("--tenant", dest="grant_tenant", help="committee (all roles but town_dispatcher)")
        p.add_argument("--compound", dest="grant_compound", help="compound (volunteer, resident)")
        p.add_argument("--household", help="household (resident)")
        p.set_defaults(fn=cmd_user)
