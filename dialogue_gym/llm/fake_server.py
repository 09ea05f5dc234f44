"""A scriptable OpenAI-compatible chat-completions server on 127.0.0.1, for tests and benchmarks.

It answers ``POST /v1/chat/completions`` from a *responder* (a function of the request body) and
can inject faults from a queue: HTTP errors (with ``Retry-After``), slow answers, malformed JSON
bodies and truncated completions. It counts requests. It never listens beyond loopback.

    with FakeChatServer(responder=lambda body: "Hello!") as server:
        backend = OpenAIBackend("fake", base_url=server.url)
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any]], str]


@dataclass
class Fault:
    """One injected behaviour for the next request.

    kind: "status" (HTTP ``status`` with optional ``retry_after``), "slow" (sleep ``delay`` then
    answer normally), "malformed" (a 200 whose body is not JSON), "truncated" (``text`` with
    ``finish_reason="length"``), "text" (answer ``text`` instead of the responder's).
    """

    kind: str
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    text: str = ""


def echo_responder(body: dict[str, Any]) -> str:
    """Default: a short reply quoting the last message."""
    last = body["messages"][-1]["content"] if body.get("messages") else ""
    return f"You said: {last[:80]}"


class FakeChatServer:
    """Run the fake endpoint in a background thread (a context manager)."""

    def __init__(self, responder: Responder = echo_responder, latency: float = 0.0) -> None:
        self.responder = responder
        self.latency = latency
        self.faults: deque[Fault] = deque()
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []
        self.api_keys: set[str] = set()
        """The bearer tokens requests came with (a test checks which key reached a worker)."""
        self.in_flight = 0
        self.max_in_flight = 0
        """The most requests served at once."""
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests += 1
                    server.bodies.append(body)
                    server.api_keys.add(
                        self.headers.get("Authorization", "").removeprefix("Bearer ")
                    )
                    fault = server.faults.popleft() if server.faults else None
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer(body, fault)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, body: dict[str, Any], fault: Fault | None) -> None:
                if server.latency:
                    time.sleep(server.latency)
                if fault and fault.kind == "slow":
                    time.sleep(fault.delay)
                if fault and fault.kind == "status":
                    self.send_response(fault.status)
                    if fault.retry_after is not None:
                        self.send_header("Retry-After", str(fault.retry_after))
                    payload = json.dumps({"error": {"message": "injected", "type": "fault"}})
                    self._send(payload.encode())
                    return
                if fault and fault.kind == "malformed":
                    self.send_response(200)
                    self._send(b'{"id": "x", "choices": [ this is not json')
                    return
                finish = "stop"
                if fault and fault.kind in ("truncated", "text"):
                    text = fault.text
                    finish = "length" if fault.kind == "truncated" else "stop"
                else:
                    text = server.responder(body)
                self.send_response(200)
                self._send(json.dumps(_completion(body, text, finish)).encode())

            def _send(self, payload: bytes) -> None:
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL to give a client (ends in ``/v1``)."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def inject(self, *faults: Fault) -> None:
        """Queue faults for the next requests, in order."""
        with self._lock:
            self.faults.extend(faults)

    def __enter__(self) -> FakeChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _completion(body: dict[str, Any], text: str, finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
