"""Runs the offline model in-process: a uvicorn server in a background thread on a loopback port.

Why it exists: the app starts it when no key is configured, and every test and benchmark starts one
(the tests share one per session: conftest.py). What must stay true: ``start`` returns only once the
server answers HTTP; ``received`` holds every chat request in arrival order; ``stop`` ends the server
and its thread even when a stream is still open (a stalled one, say).
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from offline_model.ngram import default_model
from offline_model.server import ServerConfig, create_app

START_TIMEOUT = 10.0


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket with Nagle off.

    Accepted connections inherit TCP_NODELAY on Linux; without it a response's header and body writes
    meet the client's delayed ACK and every request costs some 40 ms."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def uvicorn_config(app: object) -> uvicorn.Config:
    """How both the runner and the CLI run uvicorn: quiet, no lifespan, a short graceful shutdown."""
    return uvicorn.Config(
        app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=1
    )


class OfflineServer:
    """A running offline model. Use ``OfflineServer.start(...)``, then ``stop()`` (or ``with``)."""

    def __init__(
        self, server: uvicorn.Server, thread: threading.Thread, host: str, port: int, received: list
    ):
        self._server = server
        self._thread = thread
        self.host = host
        self.port = port
        self.received: list[dict] = received

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1/"

    @classmethod
    def start(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str | None = None,
        tokens_per_second: float = 0.0,
        ttft_ms: int = 0,
        strict_openai: bool = False,
        max_received: int | None = None,
    ) -> OfflineServer:
        """Start a server on host:port (0 = a free port) and return once it answers.

        ``max_received`` bounds ``received`` to the newest N requests (None = keep all, for tests); a
        long-running app should set it, since request bodies can hold images."""
        config = ServerConfig(
            api_key=api_key, tokens_per_second=tokens_per_second, ttft_ms=ttft_ms, strict_openai=strict_openai
        )
        received: list[dict] = []
        app = create_app(config, received=received, model=default_model(), max_received=max_received)
        sock = listening_socket(host, port)
        bound_port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn_config(app))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"offline-model-{bound_port}", daemon=True
        )
        thread.start()
        srv = cls(server, thread, host, bound_port, received)
        srv._wait_until_answering(sock)
        return srv

    def _wait_until_answering(self, sock: socket.socket) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("the offline model did not start")
            time.sleep(0.005)
        # One real HTTP exchange proves the server answers (raw socket: http.client costs import time).
        with socket.create_connection((self.host, self.port), timeout=START_TIMEOUT) as conn:
            conn.sendall(b"GET /v1/models HTTP/1.1\r\nHost: offline\r\nConnection: close\r\n\r\n")
            status = conn.recv(64)
        if not status.startswith(b"HTTP/1.1 "):
            raise RuntimeError(f"the offline model answered {status!r}")

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=5)

    def __enter__(self) -> OfflineServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"OfflineServer({self.base_url})"
