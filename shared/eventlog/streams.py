"""Create or update the streams described in deploy/streams.yaml, and the files bucket."""
from __future__ import annotations

from pathlib import Path

import yaml
from nats.js.api import DiscardPolicy, ObjectStoreConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError

from shared.eventlog.subjects import FILES_BUCKET, FILES_MAX_BYTES, FILES_TTL_S
from shared.infra.embedded import DEPLOY_DIR


def stream_configs(path: Path = DEPLOY_DIR / "streams.yaml") -> list[StreamConfig]:
    raw = yaml.safe_load(path.read_text())
    configs = []
    for spec in raw.values():
        configs.append(StreamConfig(
            name=spec["name"], subjects=spec["subjects"], storage=StorageType(spec["storage"]),
            retention=RetentionPolicy(spec["retention"]), max_age=float(spec["max_age"]),
            deny_delete=spec["deny_delete"], deny_purge=spec["deny_purge"],
            allow_atomic=spec["allow_atomic"], allow_direct=spec["allow_direct"],
            duplicate_window=float(spec["duplicate_window"]), num_replicas=spec["num_replicas"],
            discard=DiscardPolicy.OLD,
        ))
    return configs


async def ensure_streams(nc) -> None:
    js = nc.jetstream()
    for config in stream_configs():
        try:
            await js.stream_info(config.name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
    await ensure_files_bucket(js)


async def ensure_files_bucket(js):
    """The Object Store bucket for files beside the messages (shared/queries/files.py): file storage,
    objects expire after FILES_TTL_S, new files are refused past FILES_MAX_BYTES."""
    try:
        return await js.object_store(FILES_BUCKET)
    except BucketNotFoundError:
        pass
    try:
        return await js.create_object_store(FILES_BUCKET, config=ObjectStoreConfig(
            description="files beside the messages: prints and uploads, kept minutes", ttl=float(FILES_TTL_S),
            max_bytes=FILES_MAX_BYTES, storage=StorageType.FILE))
    except BadRequestError:  # created meanwhile by another process
        return await js.object_store(FILES_BUCKET)
