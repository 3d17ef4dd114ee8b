"""The lean read path: an ephemeral pull consumer (no acks) fed by pipelined batch requests.

nats-py's per-message iterator and `fetch()` are the slow paths (nats.py#390, #465); here one
pull request for `batch` messages is always outstanding while the previous batch is applied.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Sequence

import orjson
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy


@dataclass(slots=True)
class RawMessage:
    seq: int
    subject: str
    headers: dict[str, str] | None
    data: bytes


def filter_config(filters: Sequence[str]) -> dict:
    """One filter subject, or several (nats-server ≥ 2.10) for projections fed by more than one service."""
    return {"filter_subject": filters[0]} if len(filters) == 1 else {"filter_subjects": list(filters)}


STALE_REQUEST_S = 5.0  # a pull request expires after 2 s; no answer for longer means it was lost


class ReaderFailed(RuntimeError):
    """The server refused a pull request (e.g. the consumer is gone after a server restart)."""


class GapDetected(RuntimeError):
    """A delivery was skipped (slow consumer): the reader must restart from its last applied sequence."""


class BatchReader:
    """Delivers stream messages matching `filters`, from `start_seq`, in order, in batches."""

    def __init__(self, nc: NATS, stream: str, filters: Sequence[str], start_seq: int, batch: int = 1000) -> None:
        self.nc, self.js, self.stream = nc, nc.jetstream(), stream
        self.filters, self.start_seq, self.batch = list(filters), start_seq, batch
        self._buffer: list[RawMessage] = []
        self._ready = asyncio.Event()
        self._outstanding = 0
        self._consumer_seq = 0
        self._pending = 0
        self._error: Exception | None = None
        self._consumer = ""
        self._inbox = ""
        self._sub = None
        self._requested_at = 0.0

    async def open(self) -> "BatchReader":
        info = await self.js.add_consumer(self.stream, ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(self.start_seq, 1),
            ack_policy=AckPolicy.NONE, inactive_threshold=30.0, mem_storage=True, max_waiting=4,
            **filter_config(self.filters)))
        self._consumer = info.name
        self._pending = info.num_pending
        self._inbox = self.nc.new_inbox()
        self._sub = await self.nc.subscribe(self._inbox, cb=self._on_msg, pending_msgs_limit=-1,
                                            pending_bytes_limit=-1)
        await self._request()
        return self

    async def close(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
        try:
            await self.js.delete_consumer(self.stream, self._consumer)
        except Exception:  # noqa: BLE001 - ephemeral consumers expire on their own
            pass

    @property
    def pending(self) -> int:
        """Messages the server still holds for this reader beyond what it delivered."""
        return self._pending

    async def _request(self) -> None:
        self._outstanding = self.batch
        self._requested_at = asyncio.get_running_loop().time()
        body = orjson.dumps({"batch": self.batch, "expires": 2_000_000_000, "idle_heartbeat": 500_000_000})
        await self.nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self._consumer}", body, reply=self._inbox)

    async def _on_msg(self, msg: Msg) -> None:
        headers = msg.headers
        if not msg.reply:  # a status: 408 expired, 100 heartbeat, 409 closed
            status = (headers or {}).get("Status", "")
            if status == "100":
                return
            if status in ("408", "404", "409"):
                await self._request()
                return
            self._error = ReaderFailed(f"pull request failed: {status} {(headers or {}).get('Description')}")
            self._ready.set()
            return
        # $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
        tokens = msg.reply.split(".")
        stream_seq, consumer_seq, pending = int(tokens[-4]), int(tokens[-3]), int(tokens[-1])
        if consumer_seq != self._consumer_seq + 1:
            self._error = GapDetected(f"consumer sequence jumped from {self._consumer_seq} to {consumer_seq}")
        self._consumer_seq, self._pending = consumer_seq, pending
        self._buffer.append(RawMessage(stream_seq, msg.subject, headers, msg.data))
        self._outstanding -= 1
        if self._outstanding == 0:
            await self._request()
        self._ready.set()

    async def next_batch(self, timeout: float) -> list[RawMessage]:
        """Up to `batch` messages, or [] when none arrived within `timeout` seconds."""
        if not self._buffer:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except asyncio.TimeoutError:
                if asyncio.get_running_loop().time() - self._requested_at > STALE_REQUEST_S:
                    await self._request()  # the request was lost (a reconnect): ask again
                return []
        if self._error is not None:
            raise self._error
        taken, self._buffer = self._buffer[: self.batch], self._buffer[self.batch:]
        return taken
