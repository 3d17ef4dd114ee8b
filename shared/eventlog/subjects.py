"""Every subject and stream name of Louzu, in one place (see docs/events.md).

Events:   louzu.evt.<tenant>.<compound>.<service>.<aggregate>.<aggregate_id>
Commands: louzu.cmd.<tenant>.<service>.<command>
Queries:  louzu.qry.<tenant>.<service>.<query>   (what only the owning service can answer)
Checkpoints: louzu.checkpoint.<projection>     (core NATS: a read model applied the log up to a position)
Files:    the JetStream Object Store bucket `louzu-files` (a query's large answer or upload)

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
CHECKPOINTS_ROOT = "louzu.checkpoint"
QUERIES_ROOT = "louzu.qry"
FILES_BUCKET = "louzu-files"  # the Object Store bucket (its stream is OBJ_louzu-files)
FILES_TTL_S = 15 * 60         # a file not fetched by then expires
FILES_MAX_BYTES = 1 << 30     # the bucket refuses new files past this
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


def query_subject(tenant: str, service: str, query: str) -> str:
    return ".".join((QUERIES_ROOT, token(tenant, "tenant"), service, query))


def query_filter(service: str, tenant: str = "*") -> str:
    """A service's queries: every tenant's (what it serves), or one tenant's (what a committee may ask)."""
    return ".".join((QUERIES_ROOT, tenant, service, "*"))


def file_object(purpose: str, tenant: str, object_id: str, suffix: str) -> str:
    """An object's name in the files bucket: `<purpose>/<tenant>/<id>.<suffix>`; the tenant in the
    name is checked by whoever takes the file, so one committee's upload is never read for another."""
    return f"{token(purpose, 'purpose')}/{token(tenant, 'tenant')}/{token(object_id, 'object id')}.{token(suffix, 'suffix')}"


def file_tenant(name: str) -> str | None:
    """The tenant an object of the files bucket was stored for (None: not one of ours)."""
    parts = name.split("/")
    return parts[1] if len(parts) == 3 else None


def checkpoint_subject(projection: str) -> str:
    """Where a projection runner announces the stream position it has applied (payload: the number)."""
    return ".".join((CHECKPOINTS_ROOT, token(projection.replace(".", "_"), "projection")))


def checkpoints_filter() -> str:
    return CHECKPOINTS_ROOT + ".*"
