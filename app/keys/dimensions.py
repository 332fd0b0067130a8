"""Restriction dimensions: *what* a key may be limited to is declared by the API that uses
the key layer, never known to the layer itself.

The marketplace declares ``countries``, ``categories`` and ``chains``; a notes API might
declare ``topics``. For each dimension the key layer stores a set of allowed values per
key (or nothing: all values), checks explicit requests against it and narrows listings
(restrictions.py), lets keys be created and changed with it (schemas, CLI), and keeps a
key inside the bounds of the key that made it (bounds.py). How a query is narrowed stays
with the API: it passes its own columns, ``rules.narrow(stmt, countries=Store.country)``.

One set of dimensions per process: the key schemas and CLI options are built from it
when the layer is set up (``keys.init_app(..., dimensions=...)``)."""
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Dimension:
    field: str        # plural, the key's field: "countries"
    label: str        # singular, in violations: "country:FR"
    pattern: str      # every value must match it whole: r"^[A-Z]{2}$"
    description: str  # for the docs and --help: "ISO 3166-1 alpha-2 country codes"

    def __post_init__(self):
        if not re.fullmatch(r"[a-z][a-z_]{0,29}", self.field):
            raise ValueError(f"dimension field {self.field!r}: use lower-case letters and _")


_declared: tuple[Dimension, ...] | None = None
_by_field: dict[str, Dimension] = {}


def declare(dimensions) -> tuple[Dimension, ...]:
    """Fix the process's dimensions; declaring the same ones again (another app instance,
    as tests make) is fine, different ones are a programming error."""
    global _declared, _by_field
    dimensions = tuple(dimensions)
    if _declared is not None and _declared != dimensions:
        raise RuntimeError("the key layer's restriction dimensions are declared once per "
                           f"process: already {[d.field for d in _declared]}")
    _declared, _by_field = dimensions, {d.field: d for d in dimensions}
    return _declared


def declared() -> tuple[Dimension, ...]:
    if _declared is None:
        raise RuntimeError("no restriction dimensions declared: call "
                           "keys.init_app(app, api, dimensions=[...]) first")
    return _declared


def by_field() -> dict[str, Dimension]:
    """The declared dimensions by field, in declaration order."""
    if _declared is None:
        declared()  # raises the explanation
    return _by_field
