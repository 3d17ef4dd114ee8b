"""The event log on JetStream: optimistic concurrency per aggregate, idempotent commands,
all-or-nothing multi-event appends, and group commit.

Group commit: appends waiting at the same moment are packed into one JetStream atomic batch,
each command's first message carrying its own `Nats-Expected-Last-Subject-Sequence`. The batch
costs one fsync (`sync_interval: always`). If the server rejects the batch, every command in
it is retried on its own, so one conflict never fails its neighbours.
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Sequence
from urllib.parse import unquote

import orjson
from nats.aio.client import Client as NATS
from nats.js.errors import NotFoundError

from shared.eventlog.envelope import COMMAND_ID, H_ID, Event, Metadata, RecordedEvent, decode, encode, event_id
from shared.eventlog.subjects import EVENTS_STREAM, AggregateSubject

WRONG_LAST_SEQUENCE = 10071
MAX_BATCH = 1000


class EventLogError(RuntimeError):
    """The log refused or could not take an append."""


class ConcurrencyConflict(EventLogError):
    """Another command changed the aggregate first: load it again and retry the command."""

    def __init__(self, subject: str, expected: int) -> None:
        super().__init__(f"{subject} moved past sequence {expected}")
        self.subject, self.expected = subject, expected


@dataclass(frozen=True, slots=True)
class AppendResult:
    last_seq: int
    event_ids: tuple[str, ...]
    duplicate: bool = False


@dataclass
class _Pending:
    subject: AggregateSubject
    events: Sequence[Event]
    expected: int | None
    meta: Metadata
    future: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    ids: tuple[str, ...] | None = None

    def messages(self) -> list[tuple[str, dict[str, str], bytes]]:
        out = []
        for index, event in enumerate(self.events):
            headers, body = encode(self.subject, event, self.meta, index)
            if index == 0 and self.expected is not None:
                headers["Nats-Expected-Last-Subject-Sequence"] = str(self.expected)
            out.append((str(self.subject), headers, body))
        self.ids = tuple(headers[H_ID] for _, headers, _ in out)
        return out

    def result(self, last_seq: int, duplicate: bool = False) -> AppendResult:
        if self.ids is None:  # the ids were never encoded (a failure before publishing)
            self.ids = tuple(event_id(self.meta.command_id, i) for i in range(len(self.events)))
        return AppendResult(last_seq, self.ids, duplicate)


class EventStore:
    """Appends and reads events of one stream; see the module docstring for group commit."""

    def __init__(self, nc: NATS, stream: str = EVENTS_STREAM, *, in_flight: int = 4) -> None:
        self.nc, self.js, self.stream = nc, nc.jetstream(), stream
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._slots = asyncio.Semaphore(in_flight)
        self._flusher: asyncio.Task | None = None
        self._reply_prefix: str | None = None
        self._reply_lock = asyncio.Lock()
        self._waiting: dict[str, asyncio.Queue] = {}

    async def append(self, subject: AggregateSubject, events: Sequence[Event], *, expected: int | None,
                     meta: Metadata) -> AppendResult:
        """Append a command's events to one aggregate, all or none, if its last sequence is `expected`
        (None: whatever it is — for records that decide nothing, such as the audit trail)."""
        if not events:
            raise ValueError("nothing to append")
        if len(events) >= MAX_BATCH:
            raise ValueError(f"a command may yield at most {MAX_BATCH - 1} events")
        pending = _Pending(subject, events, expected, meta)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_forever())
        self._queue.put_nowait(pending)
        return await pending.future

    async def close(self) -> None:
        if self._flusher:
            self._flusher.cancel()

    async def _flush_forever(self) -> None:
        while True:
            first = await self._queue.get()
            await self._slots.acquire()
            group, deferred, size, subjects = [first], [], len(first.events), {str(first.subject)}
            while not self._queue.empty() and size < MAX_BATCH:
                nxt = self._queue.get_nowait()
                if str(nxt.subject) in subjects or size + len(nxt.events) > MAX_BATCH:
                    deferred.append(nxt)
                    continue
                group.append(nxt)
                subjects.add(str(nxt.subject))
                size += len(nxt.events)
            for item in deferred:
                self._queue.put_nowait(item)
            task = asyncio.create_task(self._commit_group(group))
            task.add_done_callback(lambda _t: self._slots.release())

    async def _commit_group(self, group: list[_Pending]) -> None:
        try:
            if len(group) == 1:
                await self._commit_one(group[0])
                return
            try:
                last = await self._publish_batch([m for p in group for m in p.messages()])
            except ConcurrencyConflict:
                await asyncio.gather(*(self._commit_one(p) for p in group))
                return
            for pending in reversed(group):
                pending.future.set_result(pending.result(last))
                last -= len(pending.events)
        except Exception as exc:  # noqa: BLE001 - handed to every waiting caller
            for pending in group:
                if not pending.future.done():
                    pending.future.set_exception(exc)

    async def _commit_one(self, pending: _Pending) -> None:
        try:
            messages = pending.messages()
            if len(messages) == 1:
                subject, headers, body = messages[0]
                headers["Nats-Msg-Id"] = pending.meta.command_id
                last, duplicate = await self._publish_one(subject, headers, body)
            else:
                last, duplicate = await self._publish_batch(messages), False
            pending.future.set_result(pending.result(last, duplicate))
        except ConcurrencyConflict as conflict:
            duplicate_seq = await self._retried(pending)
            if duplicate_seq is None:
                pending.future.set_exception(conflict)
            else:
                pending.future.set_result(pending.result(duplicate_seq, duplicate=True))
        except Exception as exc:  # noqa: BLE001
            pending.future.set_exception(exc)

    async def _retried(self, pending: _Pending) -> int | None:
        """A conflict caused by this very command having landed before (a retry) is not a conflict."""
        try:
            last = await self.js.get_msg(self.stream, subject=str(pending.subject), direct=True)
        except NotFoundError:
            return None
        if unquote((last.headers or {}).get(COMMAND_ID, "")) == pending.meta.command_id:
            return last.seq
        return None

    async def _publish_one(self, subject: str, headers: dict[str, str], body: bytes) -> tuple[int, bool]:
        """One message with `Nats-Msg-Id`: a retry inside the duplicate window is acknowledged as a duplicate."""
        reply = await self.nc.request(subject, body, headers=headers, timeout=10)
        ack = orjson.loads(reply.data)
        self._raise_for(ack, subject, headers)
        return int(ack["seq"]), bool(ack.get("duplicate"))

    async def _publish_batch(self, messages: list[tuple[str, dict[str, str], bytes]]) -> int:
        batch_id = uuid.uuid4().hex
        last = len(messages)
        for number, (subject, headers, body) in enumerate(messages, start=1):
            headers = {**headers, "Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(number)}
            if number < last:
                await self.nc.publish(subject, body, headers=headers)
                continue
            headers["Nats-Batch-Commit"] = "1"
            reply = await self.nc.request(subject, body, headers=headers, timeout=10)
            ack = orjson.loads(reply.data)
            self._raise_for(ack, subject, messages[0][1])
            return int(ack["seq"])
        raise AssertionError("unreachable")

    @staticmethod
    def _raise_for(ack: dict, subject: str, headers: dict[str, str]) -> None:
        error = ack.get("error")
        if not error:
            return
        if error.get("err_code") == WRONG_LAST_SEQUENCE:
            raise ConcurrencyConflict(subject, int(headers.get("Nats-Expected-Last-Subject-Sequence", -1)))
        raise EventLogError(f"JetStream refused the append: {error.get('description')} ({error.get('err_code')})")

    async def read_aggregate(self, subject: AggregateSubject, after: int = 0) -> list[RecordedEvent]:
        """One aggregate's history, oldest first, by batched direct get (ADR-31)."""
        out: list[RecordedEvent] = []
        start = after + 1
        while True:
            chunk = await self._direct_batch(str(subject), start, 500)
            out.extend(decode(seq, subj, headers, body) for seq, subj, headers, body in chunk)
            if len(chunk) < 500:
                return out
            start = chunk[-1][0] + 1

    async def _direct_batch(self, subject: str, start: int, batch: int) -> list[tuple[int, str, dict, bytes]]:
        replies = await self._replies()
        token = uuid.uuid4().hex
        queue: asyncio.Queue = asyncio.Queue()
        self._waiting[token] = queue
        try:
            request = orjson.dumps({"seq": start, "next_by_subj": subject, "batch": batch})
            await self.nc.publish(f"$JS.API.DIRECT.GET.{self.stream}", request, reply=f"{replies}.{token}")
            found = []
            while True:
                msg = await asyncio.wait_for(queue.get(), 10)
                headers = msg.headers or {}
                status = headers.get("Status")
                if status:
                    if status in ("204", "404"):
                        return found
                    raise EventLogError(f"direct get failed: {status} {headers.get('Description', '')}")
                found.append((int(headers["Nats-Sequence"]), headers["Nats-Subject"], headers, msg.data))
        finally:
            del self._waiting[token]

    async def _replies(self) -> str:
        """One long-lived reply subscription for every aggregate read (not one per read)."""
        if self._reply_prefix is None:
            async with self._reply_lock:
                if self._reply_prefix is None:
                    prefix = self.nc.new_inbox()
                    await self.nc.subscribe(f"{prefix}.*", cb=self._route, pending_msgs_limit=-1,
                                            pending_bytes_limit=-1)
                    self._reply_prefix = prefix
        return self._reply_prefix

    async def _route(self, msg) -> None:
        queue = self._waiting.get(msg.subject.rsplit(".", 1)[1])
        if queue is not None:
            queue.put_nowait(msg)

    async def last_seq(self) -> int:
        info = await self.js.stream_info(self.stream)
        return info.state.last_seq
