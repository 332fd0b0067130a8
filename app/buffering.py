"""Whole requests before a thread: slow clients cannot starve the served worker.

gunicorn's threaded worker hands a connection to one of its few threads as soon as the
first bytes arrive; the thread then blocks reading the rest. Forty clients that send one
header line every few seconds, or their body one byte at a time, hold forty threads, and
every other call waits. Here the worker's own event loop (its poller, one thread, no
blocking) reads each request until it is whole (the headers, and a body up to its
Content-Length or a chunked body's last chunk), and only then gives it to a thread, with
the bytes already read put back in front of gunicorn's parser. A request that is not
whole within ``REQUEST_READ_TIMEOUT`` seconds gets a 408 problem and is closed.

What is read ahead is bounded: past ``MAX_BUFFERED`` bytes the request goes to a thread
anyway, whose parser and the app refuse it (431 for a header block too large, 413 for a
body over MAX_CONTENT_LENGTH, whose body is never read). TLS connections are not read
ahead (terminate TLS in front of gunicorn, see docs/serving.md)."""
import errno
import os
import re
import selectors
import time
from functools import partial

from gunicorn.workers.gthread import TConn

REQUEST_READ_TIMEOUT = float(os.environ.get("REQUEST_READ_TIMEOUT", "10"))  # seconds
MAX_BODY = int(os.environ.get("MAX_CONTENT_LENGTH", str(64 * 1024)))
MAX_BUFFERED = MAX_BODY + 32 * 1024  # a body at the limit and room for the header block
CONTENT_LENGTH = re.compile(rb"(?im)^content-length[ \t]*:[ \t]*([0-9]{1,18})[ \t]*\r?$")
CHUNKED = re.compile(rb"(?im)^transfer-encoding[ \t]*:[^\r\n]*chunked")
EXPECT = re.compile(rb"(?im)^expect[ \t]*:")


def request_is_whole(buffer: bytes) -> bool:
    """Has ``buffer`` a whole request, or as much of one as is worth waiting for?"""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return len(buffer) > MAX_BUFFERED  # a header block too large: the parser says so
    head, body = buffer[:end], len(buffer) - end - 4
    if EXPECT.search(head):  # the client waits for an answer before it sends a body
        return True
    length = CONTENT_LENGTH.search(head)
    if length:
        wanted = int(length.group(1))
        return wanted > MAX_BODY or body >= wanted  # too large: refused without its body
    if CHUNKED.search(head):
        return buffer.endswith(b"0\r\n\r\n") or body > MAX_BUFFERED
    return True


class BufferedRequests:
    """Mixed into gunicorn's ThreadWorker (app/serving.py's ProblemWorker): new and
    kept-alive connections are read in the event loop until their request is whole."""

    def init_process(self):
        self.reading = {}  # connection -> deadline, in arrival order
        super().init_process()

    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self.read_request(TConn(self.cfg, client_sock, client_addr,
                                listener.getsockname()))

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection's next request: read it whole too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.read_request(conn)

    def read_request(self, conn):
        if self.cfg.is_ssl:
            self.enqueue_req(conn)
            return
        conn.sock.setblocking(False)
        conn.read_ahead = bytearray()
        # Most requests are already whole when their socket turns readable: read now,
        # and wait in the poller only for one that is not.
        if not self.read_more(conn):
            self.reading[conn] = time.monotonic() + REQUEST_READ_TIMEOUT
            self.poller.register(conn.sock, selectors.EVENT_READ,
                                 partial(self.on_request_bytes, conn))

    def on_request_bytes(self, conn, _client):
        self.read_more(conn)

    def read_more(self, conn) -> bool:
        """Read what has arrived; True once the connection is dealt with: handed to a
        thread with its whole request, or closed."""
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data and not conn.read_ahead:  # gone before sending anything
            self._stop_reading(conn)
            self._close(conn)
            return True
        conn.read_ahead += data
        # At the end of what the client sends (it shut its side), the parser says what is
        # wrong with an incomplete request (400).
        if data and not request_is_whole(conn.read_ahead):
            return False
        self._stop_reading(conn)
        conn.sock.setblocking(True)
        conn.init()  # the parser (already there for a kept-alive connection)
        conn.parser.unreader.unread(bytes(conn.read_ahead))
        conn.data_ready = True  # the thread must not wait for bytes already read
        self.enqueue_req(conn)
        return True

    def murder_pending(self):
        """Also end the requests not whole within their deadline: 408, then close."""
        super().murder_pending()
        now = time.monotonic()
        for conn, deadline in list(self.reading.items()):
            if deadline > now:
                break  # later arrivals have later deadlines
            self._stop_reading(conn)
            try:
                conn.sock.send(self.timeout_answer())
            except OSError:
                pass
            self._close(conn)

    def timeout_answer(self) -> bytes:
        raise NotImplementedError  # the worker says how (a problem+json 408)

    def _stop_reading(self, conn):
        if self.reading.pop(conn, None) is None:
            return  # never waited in the poller
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _close(self, conn):
        self.nr_conns -= 1
        conn.close()
