"""A department's own system in a test: a real HTTP server on 127.0.0.1 receiving webhooks, and the Standard
Webhooks signature check written from the convention (not imported from the node)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


class Receiver:
    """A department's own system: an HTTP server on 127.0.0.1 that can be taken down and brought back on the
    same port, and that answers the first request for each webhook-id with 500 when `fail_first` (the
    answer lost: the sender must send it again, with the same webhook-id)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.processed: dict[str, dict[str, Any]] = {}  # by webhook-id: each event applied once
        self.fail_first = False
        self._failed: set[str] = set()
        self._server: HTTPServer | None = None
        self.port = 0
        self._lock = threading.Lock()

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.requests.append((headers, body))
                    message_id = headers["webhook-id"]
                    if receiver.fail_first and message_id not in receiver._failed:
                        receiver._failed.add(message_id)
                        status = 500
                    else:
                        receiver.processed.setdefault(message_id, json.loads(body))
                        status = 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks check, written here from the convention, not imported from the node."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [part.split(",", 1)[1] for part in headers["webhook-signature"].split() if part.startswith("v1,")]
    fresh = abs(time.time() - int(headers["webhook-timestamp"])) < 300
    return fresh and any(hmac.compare_digest(expected, signature) for signature in given)
