"""`louzu user …`: sign-ins and role grants (the password is hashed here; only the hash travels)."""
from __future__ import annotations

import getpass
import os

from shared.cli import print_problem, send_command
from shared.errors import DomainError
from shared.events.gateway import ROLES, USERS_TENANT


async def cmd_user(args, settings) -> int:
    from services.gateway.application.access import hash_password
    if args.user_verb == "add":
        password = args.password or os.environ.get("LOUZU_NEW_PASSWORD") or getpass.getpass("密码 / password: ")
        try:
            password_hash = hash_password(password)
        except DomainError as exc:
            print_problem(exc.problem.as_dict())
            return 1
        name, body = "register_user", {"user_id": args.user_id, "display_name": args.name or args.user_id,
                                       "town": args.town, "password_hash": password_hash}
    else:
        name = {"grant": "grant_role", "revoke": "revoke_role"}[args.user_verb]
        body = {"user_id": args.user_id, "role": args.role, "grant_tenant": args.grant_tenant or "",
                "grant_compound": args.grant_compound or "", "household_id": args.household or ""}
    return await send_command(settings, "gateway", USERS_TENANT, name,
                              {"tenant": USERS_TENANT, "compound": "all", "actor": args.actor_id, **body})


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
