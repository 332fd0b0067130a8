"""Names are data, not instructions for the operator's terminal: a key's name or owner is
whatever its creator typed (through the admin API too), and printed raw an ESC sequence in
it could recolour the screen, rewrite earlier lines or set the window title. So the admin
CLI prints names through ``printable``: escape sequences and other control characters are
removed (the same rule as the partner client's client/terminal.py)."""
import re

_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?"
                      r"|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                       "\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without escape sequences or control characters (newlines and tabs kept)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))
