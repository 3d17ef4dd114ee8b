"""CloudEvents 1.0 binary mode over NATS: context attributes in `ce-` headers, the event's
pydantic JSON in the body. Non-ASCII header values are percent-encoded (CloudEvents NATS binding)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar
from urllib.parse import quote, unquote

import orjson
from pydantic import BaseModel, ConfigDict

from shared.eventlog.subjects import AggregateSubject

SPEC_VERSION = "1.0"
COMMAND_ID = "Louzu-Command-Id"
H_ID, H_TYPE, H_SOURCE, H_SUBJECT, H_TIME = "ce-id", "ce-type", "ce-source", "ce-subject", "ce-time"
H_SPEC, H_TENANT, H_CORRELATION, H_CAUSATION = "ce-specversion", "ce-tenant", "ce-correlationid", "ce-causationid"
H_DATASCHEMA = "ce-dataschema"


class Event(BaseModel):
    """Base of every event: immutable, named in the past tense, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    service: ClassVar[str] = ""
    aggregate: ClassVar[str] = ""
    version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return f"louzu.{cls.service}.{cls.__name__}"

    @classmethod
    def ce_type(cls) -> str:
        return f"{cls.type_name()}.v{cls.version}"


_EVENTS: dict[str, type[Event]] = {}
_UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {}


def register(cls: type[Event]) -> type[Event]:
    """Class decorator: make an event class known to the decoder."""
    _EVENTS[cls.type_name()] = cls
    return cls


def upcaster(type_name: str, from_version: int):
    """Register a pure function turning version `from_version` of an event body into the next."""
    def wrap(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
        _UPCASTERS[(type_name, from_version)] = fn
        return fn
    return wrap


def event_classes() -> dict[str, type[Event]]:
    return dict(_EVENTS)


class UndecodableEvent(ValueError):
    """A message on the bus that is not a Louzu event we can read; `reason` says why."""


# CloudEvents bindings: printable ASCII passes as is; space, '"', '%' and anything else is percent-encoded.
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')


def _header_value(value: str) -> str:
    return quote(value, safe=_HEADER_SAFE)


def _split_type(ce_type: str) -> tuple[str, int]:
    name, _, version = ce_type.rpartition(".v")
    if not name or not version.isdigit():
        raise UndecodableEvent(f"ce-type {ce_type!r} has no version suffix")
    return name, int(version)


@dataclass(frozen=True, slots=True)
class Metadata:
    """Who asked and why: the command that produced an event and the conversation it belongs to."""

    command_id: str
    correlation_id: str | None = None
    causation_id: str | None = None
    source: str = "/louzu"


def event_id(command_id: str, index: int) -> str:
    """Deterministic, so a retried command produces the very same event ids."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"louzu:{command_id}:{index}"))


def encode(subject: AggregateSubject, event: Event, meta: Metadata, index: int,
           when: datetime | None = None) -> tuple[dict[str, str], bytes]:
    when = when or datetime.now(timezone.utc)
    headers = {
        H_SPEC: SPEC_VERSION,
        H_ID: event_id(meta.command_id, index),
        H_TYPE: type(event).ce_type(),
        H_SOURCE: _header_value(meta.source),
        H_SUBJECT: subject.aggregate_id,
        H_TIME: when.isoformat().replace("+00:00", "Z"),
        H_TENANT: subject.tenant,
        H_CORRELATION: _header_value(meta.correlation_id or meta.command_id),
        H_CAUSATION: _header_value(meta.causation_id or meta.command_id),
        "content-type": "application/json",
        COMMAND_ID: _header_value(meta.command_id),
    }
    return headers, event.model_dump_json().encode()


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as read back from the log, with its place in it."""

    seq: int
    subject: AggregateSubject
    event: Event
    id: str
    time: str
    command_id: str
    correlation_id: str
    causation_id: str


def decode(seq: int, subject: str, headers: dict[str, str] | None, body: bytes) -> RecordedEvent:
    """Read one stored message; old versions are upcast; anything unreadable raises UndecodableEvent."""
    headers = headers or {}
    ce_type = headers.get(H_TYPE)
    if headers.get(H_SPEC) != SPEC_VERSION or not ce_type:
        raise UndecodableEvent("not a CloudEvents 1.0 message (ce-specversion / ce-type missing)")
    name, version = _split_type(ce_type)
    cls = _EVENTS.get(name)
    if cls is None:
        raise UndecodableEvent(f"unknown event type {name}")
    try:
        parsed = _subject(subject)
        if version == cls.version:
            event = cls.model_validate_json(body)
        else:
            event = cls.model_validate(_upcast(name, version, cls.version, orjson.loads(body)))
    except UndecodableEvent:
        raise
    except Exception as exc:  # pydantic, orjson or subject errors: all mean "cannot read"
        raise UndecodableEvent(f"{name}.v{version}: {_short(exc)}") from None
    return RecordedEvent(seq, parsed, event, headers.get(H_ID, ""), headers.get(H_TIME, ""),
                         _unquote(headers.get(COMMAND_ID, "")), _unquote(headers.get(H_CORRELATION, "")),
                         _unquote(headers.get(H_CAUSATION, "")))


def _unquote(value: str) -> str:
    return unquote(value) if "%" in value else value  # almost no header value is encoded


@lru_cache(maxsize=65_536)
def _subject(subject: str) -> AggregateSubject:
    """Parsed once per aggregate: a replay meets the same subjects again and again."""
    return AggregateSubject.parse(subject)


def _upcast(name: str, version: int, target: int, body: dict[str, Any]) -> dict[str, Any]:
    if version > target:
        raise UndecodableEvent(f"{name}.v{version} is newer than this code (v{target})")
    while version < target:
        step = _UPCASTERS.get((name, version))
        if step is None:
            raise UndecodableEvent(f"no upcaster for {name}.v{version}")
        body, version = step(body), version + 1
    return body


def _short(exc: Exception) -> str:
    # pydantic errors can echo input values; keep the location and kind, never the value.
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in errors()[:5])
        except Exception:  # noqa: BLE001
            pass
    return type(exc).__name__
