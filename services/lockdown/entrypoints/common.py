"""Sending a lockdown command from the command line and printing the reply (or the error)."""
from __future__ import annotations

import json
import sys
import uuid

import nats

from shared.commanding import CommandClient, ServiceUnavailable
from shared.infra.system import urls


async def _send(settings, tenant: str, name: str, body: dict) -> int:
    nats_url, _ = urls(settings)
    nc = await nats.connect(nats_url)
    try:
        reply = await CommandClient(nc, tenant, "lockdown").send(name, {"command_id": uuid.uuid4().hex, **body})
    except ServiceUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        await nc.close()
    if reply.get("ok"):
        print(json.dumps(reply, ensure_ascii=False))
        return 0
    err = reply["error"]
    print(f"{err['message_zh']}\n{err['message_en']}" + (f"\n(field: {err['field']})" if err.get("field") else ""),
          file=sys.stderr)
    return 1


def _base(args) -> tuple[str, dict]:
    tenant = args.tenant or args.compound
    return tenant, {"tenant": tenant, "compound": args.compound, "actor": args.actor_id}
