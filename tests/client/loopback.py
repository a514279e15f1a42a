"""A scripted HTTP/1.1 server on a loopback port, for byte-exact wire tests.

Each test hands it a script: a function that gets the parsed request and a `Conn` to write raw bytes
to, so a test can send exactly the framing, pauses (waiting on an Event, never sleeping), drops and
trailing junk it wants to check. The server records whether the client hung up, which is how tests
prove that no connection stays open after an error, a timeout or a cancel.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Conn:
    sock: socket.socket
    closed_by_client: threading.Event = field(default_factory=threading.Event)
    complete: bool = False  # the script sent a whole response: the connection may serve another

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def start(
        self, status: int = 200, content_type: str = "text/event-stream", headers: dict | None = None
    ) -> None:
        """Send a status line and headers for a chunked body."""
        lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", "Transfer-Encoding: chunked"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.send("\r\n".join(lines) + "\r\n\r\n")

    def chunk(self, data: bytes | str) -> None:
        data = data.encode() if isinstance(data, str) else data
        if data:
            self.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def end(self) -> None:
        self.send(b"0\r\n\r\n")
        self.complete = True

    def respond(
        self, status: int, body: bytes | str, content_type: str = "application/json", headers=None
    ) -> None:
        body = body.encode() if isinstance(body, str) else body
        lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        self.complete = True

    def wait_for_client_close(self, timeout: float = 10.0) -> bool:
        """Block until the client closes its side (what a stalled server does); True if it did."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except TimeoutError:
            return False
        except OSError:
            pass
        self.closed_by_client.set()
        return True

    hold = wait_for_client_close  # in scripts: send nothing more until the client gives up


Script = Callable[[Request, Conn], None]


class ScriptedServer:
    """Serve each request with the next script (the last one repeats), keeping connections alive."""

    def __init__(self, *scripts: Script) -> None:
        self.scripts = list(scripts)
        self.requests: list[Request] = []
        self.conns: list[Conn] = []
        self.release = threading.Event()  # scripts that stall wait on this; set at stop()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._served = 0
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/"

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self._sock.accept()
            except OSError:
                return
            t = threading.Thread(target=self._handle, args=(sock,), daemon=True)
            self._threads.append(t)
            t.start()

    def _next_script(self) -> Script:
        with self._lock:
            n = self._served
            self._served += 1
        return self.scripts[min(n, len(self.scripts) - 1)]

    def _handle(self, sock: socket.socket) -> None:
        conn = Conn(sock)
        self.conns.append(conn)
        try:
            while True:  # keep-alive: serve requests until a script leaves a response unfinished
                req = _read_request(sock)
                if req is None:
                    conn.closed_by_client.set()
                    return
                self.requests.append(req)
                conn.complete = False
                self._next_script()(req, conn)
                if not conn.complete:
                    break
        except OSError:
            pass
        finally:
            conn.wait_for_client_close()
            sock.close()

    def all_closed(self, timeout: float = 10.0) -> bool:
        """True once every connection the server accepted was closed by the client."""
        return all(c.closed_by_client.wait(timeout) for c in list(self.conns))

    def stop(self) -> None:
        self.release.set()
        self._sock.close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _read_request(sock: socket.socket) -> Request | None:
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return None
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            break
        rest += data
    return Request(method, path, headers, rest[:length])
