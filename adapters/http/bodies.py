"""What a request body must be before the API reads it: at most a mebibyte, and JSON in UTF-8."""

from __future__ import annotations

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http.problems import ApiProblem, problem_response

# The largest body a command needs is a registration of a household of 30 members: a few kilobytes. A
# mebibyte is far above that and still small enough that a node never holds much of a flood in memory.
MAX_BODY_BYTES = 1024 * 1024
_TOO_LARGE = f"body: a request body is at most {MAX_BODY_BYTES} bytes"


class BodyLimit:
    """ASGI middleware: a body over MAX_BODY_BYTES is a 413 problem, whether its Content-Length says so at
    once or its chunks add up to it while it is read (then the read raises, and the handlers answer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            response = problem_response(Request(scope), 413, "content-too-large", _TOO_LARGE)
            await response(scope, receive, send)
            return
        read = 0

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            if read > MAX_BODY_BYTES:
                raise HTTPException(413, _TOO_LARGE)
            return message

        await self.app(scope, counted, send)


async def utf8_body(request: Request) -> None:
    """A JSON body must be UTF-8 (RFC 8259 §8.1). Python's json also reads UTF-16 and UTF-32 (it guesses the
    encoding from the first bytes), so a body in another encoding is refused here. A NUL byte is never in
    UTF-8 JSON text (JSON escapes control characters) and is in every UTF-16 or UTF-32 text of JSON."""
    body = await request.body()  # read once: the endpoint's parser reuses the same bytes
    try:
        body.decode("utf-8")
        utf8 = b"\x00" not in body
    except UnicodeDecodeError:
        utf8 = False
    if not utf8:
        raise ApiProblem(
            400, "invalid-request", "body: JSON must be encoded in UTF-8 (RFC 8259 §8.1); this body is not"
        )
