"""A webhook receiver on 127.0.0.1 in the test process: it records each request and answers with
the statuses it is told to (then 200), optionally stalling first to cause a timeout."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    # Answered in turn, one per request; each an HTTP status, or "stall" (no answer within the timeout).
    script: list[int | str] = field(default_factory=list)
    stall_seconds: float = 0.0

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start(tls: ssl.SSLContext | None = None) -> Receiver:
    """Over HTTPS when given a server-side ``tls`` context."""
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = holder[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.received.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
            step = receiver.script.pop(0) if receiver.script else 200
            if step == "stall":
                time.sleep(receiver.stall_seconds)
                step = 200
            self.send_response(int(step))
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"thanks")

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    receiver = Receiver(server)
    holder.append(receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
