"""``python -m client web`` under gunicorn: Flask's development server is for a desk, not
for the internet (one slow client holds it up; it says so itself). The settings are
client/gunicorn.conf.py's; the command line only chooses the address, and the line it
prints names the port really bound (``--port 0`` takes a free one)."""
from __future__ import annotations

import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from .errors import ConfigurationError

CONFIG = Path(__file__).with_name("gunicorn.conf.py")


class ShopperServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, make_app: Callable[[], Any], bind: str) -> None:
        self.make_app, self.bind = make_app, bind
        super().__init__()

    def load_config(self) -> None:
        # The settings file, read as gunicorn reads one (its module-level names); the
        # app itself comes from load(), with the client this command configured.
        for name, value in runpy.run_path(str(CONFIG)).items():
            if name in self.cfg.settings and name != "wsgi_app" and value is not None:
                self.cfg.set(name, value)
        self.cfg.set("bind", [self.bind])
        self.cfg.set("when_ready", _announce)

    def load(self) -> Any:
        return self.make_app()


def _announce(server: Any) -> None:
    for listener in server.LISTENERS:
        host, port = listener.sock.getsockname()[:2]
        print(f"Shopper page on http://{host}:{port}/ (served by gunicorn, "
              "client/gunicorn.conf.py; the API key stays here; Ctrl+C stops it)",
              file=sys.stderr, flush=True)


def run(make_app: Callable[[], Any], host: str, port: int) -> None:
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"Cannot listen on port {port}: choose 0 to 65535.")
    try:
        ShopperServer(make_app, f"{host}:{port}").run()
    except SystemExit as stop:  # gunicorn exits when it cannot bind: say so in one line
        if stop.code not in (0, None):
            raise ConfigurationError(f"Cannot serve the page on {host}:{port}; is the port "
                                     "taken? Choose another --port.") from None
