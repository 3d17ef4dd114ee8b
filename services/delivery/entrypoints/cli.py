"""`louzu delivery …`: every delivery command and view."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import asyncpg

from shared.cli import add_command_verbs, send_command
from shared.infra.system import urls
from services.delivery.projections import queries

# verb → (command, [(argument, kind)]) where kind is "pos" (positional), "opt", "flag" or "int"
COMMAND_VERBS: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "request": ("request_delivery", "ask for supplies for a household",
                [("household_id", "pos"), ("building", "opt"), ("items", "opt"), ("category", "opt"),
                 ("source", "opt"), ("urgency", "opt"), ("resident_id", "opt"), ("on_behalf", "flag")]),
    "accept": ("accept_delivery", "accept a request", [("request_id", "pos")]),
    "assign": ("assign_delivery", "give a request to the gate-post pair or a volunteer",
               [("request_id", "pos"), ("assignee_id", "opt"), ("assignee_kind", "opt"), ("take", "flag")]),
    "pickup": ("pick_up_delivery", "picked up (items from relatives: --received-at-gate)",
               [("request_id", "pos"), ("received_at_gate", "flag"), ("note", "opt")]),
    "deliver": ("complete_delivery", "delivered to the door",
                [("request_id", "pos"), ("confirmed_by_resident", "flag"), ("note", "opt")]),
    "fail": ("fail_delivery", "could not deliver (no_answer, item_unavailable, other)",
             [("request_id", "pos"), ("reason", "opt"), ("note", "opt")]),
    "retry": ("retry_delivery", "put a failed request back in the queue", [("request_id", "pos")]),
    "cancel": ("cancel_delivery", "cancel a request", [("request_id", "pos"), ("reason", "opt")]),
    "escalate": ("escalate_delivery", "escalate to a cadre", [("request_id", "pos"), ("to_cadre_id", "opt")]),
    "purchase-open": ("open_group_purchase", "open a group purchase (团购)",
                      [("purchase_id", "pos"), ("scope", "opt"), ("building", "opt"), ("supplier", "opt"),
                       ("offer", "opt"), ("unit_price_fen", "int"), ("delivery_due", "opt")]),
    "order": ("order_group_purchase", "a household's order", [("purchase_id", "pos"), ("household_id", "opt"),
                                                              ("building", "opt"), ("quantity", "int")]),
    "order-cancel": ("cancel_group_purchase_order", "withdraw a household's order",
                     [("purchase_id", "pos"), ("household_id", "opt")]),
    "purchase-close": ("close_group_purchase", "close a group purchase: one order to the supplier",
                       [("purchase_id", "pos")]),
    "purchase-arrived": ("record_group_purchase_arrival", "the supplier delivered: fan out to the doors",
                         [("purchase_id", "pos")]),
}


async def cmd_send(args, settings) -> int:
    name, _, fields = COMMAND_VERBS[args.delivery_verb]
    tenant = args.tenant or args.compound
    body = {"tenant": tenant, "compound": args.compound, "actor": args.actor_id}
    for field, _kind in fields:
        value = getattr(args, field)
        if value is not None and value is not False:
            body[field] = value
    return await send_command(settings, "delivery", tenant, name, body)


async def cmd_view(args, settings) -> int:
    _, database_url = urls(settings)
    conn = await asyncpg.connect(database_url)
    now = datetime.now(timezone.utc)
    try:
        if args.view == "backlog":
            data = await queries.backlog(conn, now)
        elif args.view == "mine":
            data = await queries.mine(conn, args.tenant or args.compound, args.compound, args.assignee)
        elif args.view == "purchase":
            data = await queries.purchase_summary(conn, args.tenant or args.compound, args.purchase_id)
        else:
            data = await queries.queue(conn, args.tenant or args.compound, args.compound, now, building=args.building)
    finally:
        await conn.close()
    print(json.dumps(data, ensure_ascii=False, default=str, indent=None if args.json else 2))
    return 0


def add_parsers(sub) -> None:
    delivery = sub.add_parser("delivery", help="the door-to-door supply queue and group purchases")
    verbs = delivery.add_subparsers(dest="delivery_verb", required=True)
    add_command_verbs(verbs, COMMAND_VERBS, cmd_send)
    for view, help_text in (("queue", "open requests by priority, with their age, holder and why"),
                            ("mine", "a volunteer's deliveries in walking order"),
                            ("backlog", "open requests and the oldest one per compound (town view)"),
                            ("purchase", "a group purchase: households, quantities and money per building")):
        p = verbs.add_parser(view, help=help_text)
        if view != "backlog":
            p.add_argument("compound")
        p.add_argument("--tenant")
        p.add_argument("--json", action="store_true")
        if view == "queue":
            p.add_argument("--building")
        if view == "mine":
            p.add_argument("assignee")
        if view == "purchase":
            p.add_argument("purchase_id")
        p.set_defaults(fn=cmd_view, view=view, compound=None) if view == "backlog" else p.set_defaults(fn=cmd_view,
                                                                                                       view=view)
