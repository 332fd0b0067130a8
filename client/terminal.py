"""Text from the API is data, not instructions for the terminal.

An item or store name is whatever a writer of the catalogue typed. Printed raw, an ESC
sequence in it could recolour the screen, move the cursor over earlier lines, set the
window title or hide text (a name can even carry a right-to-left override that reverses
what follows). So everything the command line prints goes through ``printable``: whole
escape sequences and every other control character are removed; line breaks that the
program itself writes stay.
"""
from __future__ import annotations

import re

# ESC [ ... final byte (CSI: colours, cursor moves), ESC ] ... BEL or ESC \ (OSC: window
# title, hyperlinks), and ESC followed by one character (the rest of the family).
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?"
                      r"|\x9b[0-?]*[ -/]*[@-~]")
# C0 controls but line feed and tab, DEL, C1 controls, and the Unicode bidirectional
# overrides and isolates (they reorder the characters that follow on screen).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                       "\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without escape sequences or control characters (newlines and tabs kept)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))
