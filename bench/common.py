"""Shared pieces of the benchmarks: servers, realistic registry events, the raw atomic-batch
publisher used by the baselines and by log generation, and the result table / JSON file."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import asyncpg
import nats
import orjson

from shared.eventlog.envelope import Event, Metadata, encode
from shared.eventlog.streams import ensure_streams
from shared.eventlog.subjects import AggregateSubject
from shared.events import registry as e
from shared.infra.embedded import EmbeddedNats, EmbeddedPostgres
from shared.projections.base import migrate_platform

RESULTS_DIR = Path(__file__).resolve().parent / "results"
NOW = datetime(2022, 3, 23, 20, 0, tzinfo=timezone.utc)


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class Figure:
    """One measured figure beside the raw baseline measured in the same run."""

    name: str
    value: float
    unit: str
    baseline: float
    ratio: float = field(init=False)
    target: str = ""          # shown in the table only
    ok: bool | None = None    # target met? shown in the table only
    note: str = ""            # shown in the table only

    def __post_init__(self) -> None:
        self.ratio = self.value / self.baseline if self.baseline else 0.0

    def as_json(self) -> dict:
        return {"name": self.name, "value": round(self.value, 1), "unit": self.unit,
                "baseline": round(self.baseline, 1), "ratio": round(self.ratio, 3)}


def write_results(figures: list[Figure], ran: list[str], path: Path = RESULTS_DIR / "latest.json") -> Path:
    """Write the figures of the benchmarks in `ran`, keeping the last figures of the others (so that
    `--only printing` updates the printing figures and leaves the rest as they were)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = []
    if path.exists():
        kept = [row for row in json.loads(path.read_text())
                if not any(row["name"].startswith(name) for name in ran)]
    rows = kept + [f.as_json() for f in figures]
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    return path


def print_table(figures: list[Figure], context: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Louzu benchmarks — {context}", title_justify="left")
    for column, justify in (("benchmark", "left"), ("value", "right"), ("unit", "left"), ("baseline", "right"),
                            ("ratio", "right"), ("target", "left"), ("", "left")):
        table.add_column(column, justify=justify)
    for f in figures:
        mark = "" if f.ok is None else ("[green]ok[/green]" if f.ok else "[red]below target[/red]")
        table.add_row(f.name, f"{f.value:,.0f}", f.unit, f"{f.baseline:,.0f}", f"{f.ratio:.2f}", f.target, mark)
    console = Console(width=max(120, Console().width))
    console.print(table)
    for f in figures:
        if f.note:
            console.print(f"  [dim]{f.name}: {f.note}[/dim]", highlight=False)


def say(text: str) -> None:
    print(text, flush=True)


class Stopwatch:
    def __enter__(self) -> "Stopwatch":
        self.start = time.perf_counter()
        self.elapsed = 0.0
        return self

    def __exit__(self, *_exc) -> None:
        self.elapsed = time.perf_counter() - self.start


# --------------------------------------------------------------------------------------------
# Servers


class BenchServers:
    """Embedded nats-server + PostgreSQL in a temporary folder (or NATS_URL / DATABASE_URL).

    `fresh_log()` gives each benchmark an empty event log: with the embedded nats-server it is
    restarted on a new store folder (the old one is deleted); with NATS_URL the log is shared and
    the benchmarks write under tenants named `bench…` (nothing is ever deleted from a server you run).
    """

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="louzu-bench-"))
        self.external_nats = os.environ.get("NATS_URL")
        self.external_db = os.environ.get("DATABASE_URL")
        self.nats: EmbeddedNats | None = None
        self.postgres: EmbeddedPostgres | None = None
        self._generation = 0

    @property
    def nats_url(self) -> str:
        return self.external_nats or self.nats.url  # type: ignore[union-attr]

    @property
    def database_url(self) -> str:
        return self.external_db or self.postgres.url  # type: ignore[union-attr]

    def start(self) -> "BenchServers":
        if not self.external_db:
            self.postgres = EmbeddedPostgres(self.home).start()
        self.fresh_log_sync()
        return self

    def fresh_log_sync(self) -> None:
        if self.external_nats:
            return
        if self.nats is not None:
            self.nats.stop()
            shutil.rmtree(self.nats.home, ignore_errors=True)
        self._generation += 1
        folder = self.home / f"log{self._generation}"
        folder.mkdir()
        self.nats = EmbeddedNats(folder).start()

    async def fresh_log(self) -> None:
        """An empty log with the streams and the platform tables in place."""
        await asyncio.to_thread(self.fresh_log_sync)
        nc = await nats.connect(self.nats_url)
        try:
            await ensure_streams(nc)
        finally:
            await nc.close()
        conn = await asyncpg.connect(self.database_url)
        try:
            await migrate_platform(conn)
        finally:
            await conn.close()

    def stop(self) -> None:
        if self.nats:
            self.nats.stop()
        if self.postgres:
            self.postgres.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def describe(self) -> str:
        where = "NATS_URL" if self.external_nats else "embedded nats-server (sync_interval: always)"
        db = "DATABASE_URL" if self.external_db else "embedded PostgreSQL (fsync on)"
        return f"{where}; {db}; {os.cpu_count()} CPU"


# --------------------------------------------------------------------------------------------
# Realistic registry data: sealed fields have the lengths shared.crypto.seal produces


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "秀英桂兰建国志强丽娟明华玉珍德福国平红梅海燕伟俊晓东小芳文军金凤雪梅春生永红淑珍"
RELATIONS = ("户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "租户", "")
FLAGS = ("elderly_alone", "chronic_illness", "pregnant", "infant", "disability")


def _sealed(rng, clear_len: int) -> str:
    """The shape of shared.crypto.seal: 'v1:' + base64(nonce 12 + ciphertext + tag 16)."""
    return "v1:" + base64.b64encode(rng.randbytes(12 + clear_len + 16)).decode()


class Faker:
    """Fast, seeded generator of registry events with realistic field lengths (pools are drawn
    once, then picked from, so that generating a million events takes seconds, not minutes)."""

    def __init__(self, seed: int = 7) -> None:
        import random
        self.rng = r = random.Random(seed)
        self.names = [r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))
                      for _ in range(4000)]
        self.id_masks = [f"3101{r.randint(1, 99):02d}********{r.randint(0, 9999):04d}" for _ in range(4000)]
        self.phone_masks = [f"1{r.randint(30, 99)}****{r.randint(0, 9999):04d}" for _ in range(4000)]
        self.cadres = [f"cadre-{n}" for n in range(1, 41)]
        self.flag_sets = [()] * 8 + [(f,) for f in FLAGS] + [tuple(sorted((a, b))) for a in FLAGS for b in FLAGS if a < b]

    def pick(self, pool):
        return pool[int(self.rng.random() * len(pool))]

    def name(self) -> str:
        return self.pick(self.names)

    def resident_registered(self, resident_id: str, household_id: str, when: datetime = NOW) -> e.ResidentRegistered:
        r, pick = self.rng, self.pick
        has_phone = r.random() < 0.85
        return e.ResidentRegistered(
            resident_id=resident_id, household_id=household_id, name=pick(self.names),
            sex="M" if r.random() < 0.5 else "F", birth_year=1930 + int(r.random() * 92), relation=pick(RELATIONS),
            flags=pick(self.flag_sets[:13]) if r.random() < 0.2 else (),
            id_hash=f"{r.getrandbits(128):032x}", id_number_sealed=_sealed(r, 18), id_mask=pick(self.id_masks),
            phone_sealed=_sealed(r, 11) if has_phone else "", phone_mask=pick(self.phone_masks) if has_phone else "",
            registered_by=pick(self.cadres), registered_at=when)

    def resident_command_fields(self, resident_id: str, household_id: str) -> dict:
        ev = self.resident_registered(resident_id, household_id)
        return {"resident_id": resident_id, "household_id": household_id, "full_name": ev.name, "sex": ev.sex,
                "birth_year": ev.birth_year, "id_hash": ev.id_hash, "id_number_sealed": ev.id_number_sealed,
                "id_mask": ev.id_mask, "phone_sealed": ev.phone_sealed, "phone_mask": ev.phone_mask,
                "relation": ev.relation, "flags": list(ev.flags)}

    def household_registered(self, building: str, entrance: str, room: str, when: datetime = NOW) -> e.HouseholdRegistered:
        return e.HouseholdRegistered(household_id=f"{building}-{entrance}-{room}", building=building,
                                     entrance=entrance, room=room, floor=int(room[:-2] or 1),
                                     registered_by=self.pick(self.cadres), registered_at=when)

    def resident_updated(self, resident_id: str, when: datetime = NOW) -> e.ResidentUpdated:
        r, pick = self.rng, self.pick
        if r.random() < 0.5:
            return e.ResidentUpdated(resident_id=resident_id, phone_sealed=_sealed(r, 11),
                                     phone_mask=pick(self.phone_masks), updated_by=pick(self.cadres), updated_at=when)
        return e.ResidentUpdated(resident_id=resident_id, flags=pick(self.flag_sets), relation=pick(RELATIONS),
                                 updated_by=pick(self.cadres), updated_at=when)

    def resident_verified(self, resident_id: str, when: datetime = NOW) -> e.ResidentVerified:
        return e.ResidentVerified(resident_id=resident_id, verified_by=self.pick(self.cadres), verified_at=when,
                                  note=self.pick(("", "", "已核对", "电话核实", "家中无人，邻居确认")))


def resident_id(n: int, salt: str = "") -> str:
    """The shape of importing.resident_id_for: 'r' + 24 hex chars."""
    return "r" + uuid.uuid5(uuid.NAMESPACE_OID, f"{salt}:{n}").hex[:24]


def registry_subject(tenant: str, compound: str, aggregate: str, ident: str) -> AggregateSubject:
    return AggregateSubject(tenant, compound, "registry", aggregate, ident)


Message = tuple[str, "dict[str, str] | None", bytes]


def encoded(subject: AggregateSubject, event: Event, when: datetime = NOW) -> Message:
    """A real stored event: CloudEvents headers + pydantic JSON body, as EventStore writes it."""
    headers, body = encode(subject, event, Metadata(uuid.uuid4().hex), 0, when)
    return str(subject), headers, body


# --------------------------------------------------------------------------------------------
# The raw atomic-batch path (no envelope, no framework): the baseline of `append` and the
# generator of the `replay` log.


class RawBatchPublisher:
    """Pipelined JetStream atomic batches with bare nats-py.

    A batch is N-1 plain publishes with `Nats-Batch-Id` / `Nats-Batch-Sequence` and a last message
    with `Nats-Batch-Commit: 1` sent with a reply subject (as `EventStore._publish_batch` does).
    Up to `in_flight` batches are committed but not yet acknowledged at any time.
    """

    def __init__(self, nc, *, batch: int = 1000, in_flight: int = 4) -> None:
        self.nc, self.batch, self.in_flight = nc, batch, in_flight
        self._slots = asyncio.Semaphore(in_flight)
        self._prefix = nc.new_inbox()
        self._waiting: dict[str, asyncio.Future] = {}
        self._sub = None
        self._errors: list[str] = []
        self.last_seq = 0
        self.published = 0

    async def __aenter__(self) -> "RawBatchPublisher":
        self._sub = await self.nc.subscribe(self._prefix + ".*", cb=self._on_ack)
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.drain()
        await self._sub.unsubscribe()

    async def _on_ack(self, msg) -> None:
        ack = orjson.loads(msg.data)
        future = self._waiting.pop(msg.subject, None)
        if "error" in ack:
            self._errors.append(str(ack["error"]))
        else:
            self.last_seq = max(self.last_seq, int(ack["seq"]))
        if future is not None and not future.done():
            future.set_result(ack)

    async def publish_all(self, messages: Iterable[Message]) -> int:
        chunk: list[Message] = []
        for message in messages:
            chunk.append(message)
            if len(chunk) == self.batch:
                await self.publish_batch(chunk)
                chunk = []
        if chunk:
            await self.publish_batch(chunk)
        await self.drain()
        return self.published

    async def publish_batch(self, chunk: list[Message]) -> None:
        await self._slots.acquire()
        batch_id = uuid.uuid4().hex
        last = len(chunk)
        publish = self.nc.publish
        for number, (subject, headers, body) in enumerate(chunk, start=1):
            h = headers if headers is not None else {}  # the caller's dict: messages are built for one use
            h["Nats-Batch-Id"] = batch_id
            h["Nats-Batch-Sequence"] = str(number)
            if number < last:
                await publish(subject, body, headers=h)
                continue
            h["Nats-Batch-Commit"] = "1"
            reply = f"{self._prefix}.{batch_id}"
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(lambda _f: self._slots.release())
            self._waiting[reply] = future
            await publish(subject, body, reply=reply, headers=h)
        self.published += last
        if self._errors:
            raise RuntimeError(f"JetStream refused a batch: {self._errors[0]}")

    async def drain(self, timeout: float = 60) -> None:
        if self._waiting:
            await asyncio.wait_for(asyncio.gather(*self._waiting.values()), timeout)
        if self._errors:
            raise RuntimeError(f"JetStream refused a batch: {self._errors[0]}")


async def connect(url: str, name: str):
    return await nats.connect(url, name=name, pending_size=64 * 1024 * 1024, max_reconnect_attempts=0)


__all__ = ["NOW", "BenchServers", "Faker", "Figure", "RawBatchPublisher", "Stopwatch", "connect", "encoded",
           "print_table", "registry_subject", "resident_id", "say", "write_results"]
