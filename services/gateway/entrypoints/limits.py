"""How large a request may be, said once: a file uploaded for import, and any other body. Both are
enforced while the body arrives, never after holding all of it: a declared `Content-Length` over the
limit is refused before the app reads a byte, a streamed body as soon as it passes the limit. The answer
is a 413 problem naming the limit. The rest of a refused body is read and dropped (up to
`DRAIN_BYTES`): a client still sending then reads the 413, instead of a connection reset under it."""
from __future__ import annotations

from fastapi import UploadFile
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.entrypoints.problems import problem_response, too_large

MAX_UPLOAD_BYTES = 5 * 2**20  # one resident sheet (.xlsx or .csv); a compound of 3,000 is about 400 KB
MAX_BODY_BYTES = 2**20  # a command's JSON or a console form
MULTIPART_ENVELOPE_BYTES = 64 * 2**10  # the form fields and boundaries around an uploaded file
DRAIN_BYTES = 32 * 2**20
CHUNK = 64 * 2**10


class TooLarge(HTTPException):
    """Raised while reading: FastAPI passes HTTP exceptions through its body parsing untouched."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request is too large: at most {limit} bytes")
        self.limit = limit


def body_limit(headers: Headers) -> int:
    if headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return MAX_UPLOAD_BYTES + MULTIPART_ENVELOPE_BYTES
    return MAX_BODY_BYTES


class BodyLimit:
    """ASGI middleware: every HTTP request's body within `body_limit`, or a 413 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        limit = body_limit(headers)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            if int(declared) <= DRAIN_BYTES and headers.get("expect", "").lower() != "100-continue":
                await _drain(receive)
            return await problem_response(too_large(limit), 413, headers={"Connection": "close"})(scope, receive, send)
        received, started = 0, False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if message.get("more_body", False):
                        await _drain(receive, received)
                    raise TooLarge(limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, sending)
        except TooLarge:
            if started:
                raise
            await problem_response(too_large(limit), 413, headers={"Connection": "close"})(scope, receive, send)


async def _drain(receive: Receive, received: int = 0) -> None:
    while received <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        received += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def read_upload(file: UploadFile, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """The uploaded file's bytes, read in chunks and refused (413) as soon as it passes the limit."""
    if file.size is not None and file.size > limit:
        raise TooLarge(limit)
    chunks, size = [], 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)
