"""Files beside the messages: a query's large answer (a compound's file reaches a megabyte; a NATS message
is at most 1 MB) or an upload travels through the JetStream Object Store bucket `louzu-files`, cut
into 128 KiB chunks, and the messages carry only a `StoredFile`. Objects expire after 15 minutes
(the bucket's TTL) whether or not anyone fetched them; whoever takes a file deletes it.

An object's name carries the committee it was stored for (`<purpose>/<tenant>/<id>.<suffix>`), and
`take` refuses one named for another committee than the query's."""
from __future__ import annotations

import uuid

from nats.aio.client import Client as NATS
from nats.js.errors import BucketNotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from shared.errors import DomainError
from shared.eventlog.streams import ensure_files_bucket
from shared.eventlog.subjects import FILES_BUCKET, file_object, file_tenant
from shared.queries.base import StoredFile


def gone() -> DomainError:
    return DomainError("file_gone", "文件已过期或不存在（文件保留 15 分钟），请重新上传或打印",
                       "the file expired or does not exist (files are kept 15 minutes); upload or print again", "file")


async def bucket(nc: NATS) -> ObjectStore:
    js = nc.jetstream()
    try:
        return await js.object_store(FILES_BUCKET)
    except BucketNotFoundError:  # servers that were not prepared by `louzu up` (or the test fixtures)
        return await ensure_files_bucket(js)


async def put(nc: NATS, purpose: str, tenant: str, data: bytes, *, suffix: str, media_type: str,
              filename: str) -> StoredFile:
    name = file_object(purpose, tenant, uuid.uuid4().hex, suffix)
    info = await (await bucket(nc)).put(name, data)
    return StoredFile(object=name, size=info.size, media_type=media_type, digest=info.digest, filename=filename)


async def take(nc: NATS, stored: StoredFile, tenant: str) -> bytes:
    """The file's bytes (the digest checked on the way), and the object deleted."""
    if file_tenant(stored.object) != tenant:
        raise gone()  # another committee's file answers as if it did not exist
    store = await bucket(nc)
    try:
        result = await store.get(stored.object)
    except ObjectNotFoundError:
        raise gone() from None
    data = bytes(result.data or b"")
    if len(data) != stored.size or result.info.digest != stored.digest:
        raise gone()
    try:
        await store.delete(stored.object)
    except ObjectNotFoundError:
        pass  # taken twice, or expired in between: either way it is gone
    return data


async def discard(nc: NATS, stored: StoredFile) -> None:
    """Delete a file nobody will take (e.g. the owner did not answer); gone already is fine."""
    try:
        await (await bucket(nc)).delete(stored.object)
    except ObjectNotFoundError:
        pass
