"""What every `louzu lockdown …` command verb starts from: the tenant and the body's common fields."""
from __future__ import annotations


def _base(args) -> tuple[str, dict]:
    tenant = args.tenant or args.compound
    return tenant, {"tenant": tenant, "compound": args.compound, "actor": args.actor_id}
