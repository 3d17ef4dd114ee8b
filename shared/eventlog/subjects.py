"""Every subject and stream name of Louzu, in one place (see docs/events.md).

Events:   louzu.evt.<tenant>.<compound>.<service>.<aggregate>.<aggregate_id>
Commands: louzu.cmd.<tenant>.<service>.<command>

The tenant is the residents' committee; the compound is the residential compound it serves.
Both are subject tokens so that a committee's events can be filtered, permissioned and
replayed on their own (`louzu.evt.yinghuayuan.>`).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

EVENTS_STREAM = "LOUZU_EVENTS"
EVENTS_ROOT = "louzu.evt"
COMMANDS_ROOT = "louzu.cmd"
# NATS KV buckets (streams KV_<bucket>) and the one service whose user may write each (nats_auth)
SIGNIN_FAILURES_BUCKET = "louzu-gateway-signin"
PRINCIPALS_BUCKET = "louzu-gateway-principals"
KV_WRITERS = {SIGNIN_FAILURES_BUCKET: "gateway", PRINCIPALS_BUCKET: "gateway"}

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class InvalidToken(ValueError):
    """A tenant, compound or id cannot be used as a subject token."""


def token(value: str, what: str = "token") -> str:
    if not _TOKEN.match(value):
        raise InvalidToken(f"{what} {value!r} must be 1–64 of a-z, 0-9, '_' or '-'")
    return value


def slug(ident: str) -> str:
    """A subject token for a building number, household or person id; anything that is not a
    token already (e.g. Chinese numerals) is hashed into one, stably."""
    lowered = ident.strip().lower()
    if _TOKEN.match(lowered):
        return lowered
    return "x" + hashlib.sha256(ident.encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class AggregateSubject:
    """Where one aggregate's events live."""

    tenant: str
    compound: str
    service: str
    aggregate: str
    aggregate_id: str

    def __str__(self) -> str:
        return ".".join((EVENTS_ROOT, self.tenant, self.compound, self.service, self.aggregate, self.aggregate_id))

    @classmethod
    def make(cls, tenant: str, compound: str, service: str, aggregate: str, aggregate_id: str) -> "AggregateSubject":
        return cls(token(tenant, "tenant"), token(compound, "compound"), token(service, "service"),
                   token(aggregate, "aggregate"), token(aggregate_id, "aggregate id"))

    @classmethod
    def parse(cls, subject: str) -> "AggregateSubject":
        parts = subject.split(".")
        if len(parts) != 7 or ".".join(parts[:2]) != EVENTS_ROOT:
            raise InvalidToken(f"not an event subject: {subject!r}")
        return cls(*parts[2:])


def events_filter(tenant: str = "*", compound: str = "*", service: str = "*") -> str:
    """A filter subject over events: everything, one tenant, one compound, or one service."""
    return ".".join((EVENTS_ROOT, tenant, compound, service, "*", "*"))


def command_subject(tenant: str, service: str, command: str) -> str:
    return ".".join((COMMANDS_ROOT, token(tenant, "tenant"), service, command))


def command_filter(service: str) -> str:
    return ".".join((COMMANDS_ROOT, "*", service, "*"))
