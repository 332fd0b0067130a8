"""Restrictions (the key's "choice of functions"): which values of each restriction
dimension (dimensions.py) it may touch, e.g. countries US and CA, chain freshmart.

One object, built from the key by the pipeline and used by every read and write:
- ``check`` refuses (403) an explicit request outside them, naming each violation;
- ``narrow`` silently limits a listing to what the key may see;
- ``allows`` answers for one value, for rows filtered in Python.

The key layer knows no dimension by name: the API passes its own values and columns by
the dimension's field, e.g. ``rules.narrow(stmt, countries=Store.country)``."""
from dataclasses import dataclass

from flask import g

from ..errors import Problem
from .dimensions import by_field


@dataclass(frozen=True)
class Restrictions:
    # ((field, allowed values or None for all), ...): hashable, so a listing's statement
    # can be cached per key shape (app/market/catalogue.py).
    limits: tuple[tuple[str, frozenset[str] | None], ...]

    @classmethod
    def of(cls, stored: dict | None) -> "Restrictions":
        """From a key's stored restrictions ({"countries": ["CA", "US"]}; absent = all)."""
        stored = stored or {}
        return cls(tuple((field, frozenset(stored[field]) if field in stored else None)
                         for field in by_field()))

    def allowed(self, field: str) -> frozenset[str] | None:
        return dict(self.limits)[field]

    def allows(self, field: str, value: str) -> bool:
        allowed = self.allowed(field)
        return allowed is None or value in allowed

    def violations(self, **requested) -> list[str]:
        """``violations(countries=["FR"], chains=["posh"])`` -> ["country:FR", ...]."""
        labels = by_field()
        violated = []
        for field, values in requested.items():
            violated += [f"{labels[field].label}:{value}" for value in dict.fromkeys(values)
                         if not self.allows(field, value)]
        return violated

    def check(self, **requested) -> None:
        violated = self.violations(**requested)
        if violated:
            raise Problem(403, "restricted",
                          "This key may not access " + ", ".join(violated) + ".",
                          violated=violated)

    def narrow(self, stmt, **columns):
        """Add ``column IN (allowed)`` for each dimension the key restricts; the keywords
        are dimension fields, the values the caller's columns that hold them."""
        for field, column in columns.items():
            allowed = self.allowed(field)
            if allowed is not None:
                stmt = stmt.where(column.in_(sorted(allowed)))
        return stmt


def current_restrictions() -> Restrictions:
    return g.restrictions
