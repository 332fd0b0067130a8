"""A real HTTP receiver for webhook tests: http.server in a thread, on 127.0.0.1, that
records every request (headers and raw body) and answers as the test says: ``ok``
(204), ``error`` (500), ``slow`` (answers 204 after ``delay`` seconds), or ``down``
(stop() closes the port: connections are refused)."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


class Receiver:
    def __init__(self, mode: str = "ok", delay: float = 0):
        self.mode, self.delay = mode, delay
        self.received: list[tuple[dict, bytes]] = []
        self.lock = threading.Lock()
        self.server = None
        self.port = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append((dict(self.headers), body))
                if receiver.mode == "slow":
                    time.sleep(receiver.delay)
                self.send_response(500 if receiver.mode == "error" else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def verified(self, secret: str) -> list[tuple[str, dict]]:
        """[(webhook-id, event)] of every request received, each verified with the
        standardwebhooks package (raises on a bad signature)."""
        with self.lock:
            received = list(self.received)
        return [(headers["webhook-id"], Webhook(secret).verify(body, headers))
                for headers, body in received]
