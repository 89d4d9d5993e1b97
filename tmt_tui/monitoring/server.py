"""The ``/metrics`` and ``/healthz`` endpoint: a small HTTP server on its own thread.

It binds loopback only unless told otherwise: metrics carry balances and P&L, and there is no
authentication on them. A scrape reads what the engine thread wrote; it never calls into the
engine, so a slow or stuck scraper cannot slow trading.
"""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.exposition import choose_encoder

from tmt_tui.monitoring.health import HealthCheck
from tmt_tui.monitoring.metrics import EngineMetrics
from tmt_tui.monitoring.settings import is_loopback

log = logging.getLogger(__name__)

INDEX = b"tmt engine monitoring: /metrics (Prometheus) and /healthz\n"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    metrics: EngineMetrics
    health: HealthCheck


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "tmt-metrics"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 (the http.server naming)
        path = urlsplit(self.path).path
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            try:
                body = encoder(self.server.metrics.registry)
            except Exception:
                log.exception("rendering /metrics failed")
                self._send(500, b"metrics failed; see the engine log\n")
                return
            self._send(200, body, content_type)
        elif path == "/healthz":
            ok, reason = self.server.health.check()
            self._send(200 if ok else 503, f"{reason}\n".encode())
        elif path == "/":
            self._send(200, INDEX)
        else:
            self._send(404, b"not found: try /metrics or /healthz\n")

    def _send(
        self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        log.debug("%s %s", self.address_string(), format % args)


class MetricsServer:
    """Serves ``metrics`` and ``health`` at ``http://host:port``; port 0 picks a free one.

    Binding happens in the constructor (so ``port`` is known and a busy port fails at once);
    ``start()`` begins serving on a daemon thread, ``stop()`` ends it. A non-loopback ``host``
    is refused unless ``allow_remote``.
    """

    def __init__(
        self,
        metrics: EngineMetrics,
        health: HealthCheck,
        host: str = "127.0.0.1",
        port: int = 9464,
        *,
        allow_remote: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"metrics host {host!r} is not loopback: set monitoring.allow_remote = true to "
                "serve /metrics beyond this machine (it shows balances and P&L, unauthenticated)"
            )
        server_class = _Server
        if ":" in host:

            class _Server6(_Server):
                address_family = socket.AF_INET6

            server_class = _Server6
        self._httpd = server_class((host, port), _Handler)
        self._httpd.metrics = metrics
        self._httpd.health = health
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> MetricsServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="tmt-metrics",
                daemon=True,
            )
            self._thread.start()
            log.info("serving /metrics and /healthz at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port. Idempotent."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
