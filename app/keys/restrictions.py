"""Restrictions (the key's "choice of functions"): which countries and categories it may
touch.

One object, built from the key by the pipeline and used by every read and write:
- ``check`` refuses (403) an explicit request outside them, naming each violation;
- ``narrow`` silently limits a listing to what the key may see.

The key layer knows only the two dimensions; the API that uses it says what they mean by
passing its own columns, e.g. ``rules.narrow(stmt, country=Store.country)``."""
from dataclasses import dataclass

from flask import g

from ..errors import Problem


@dataclass(frozen=True)
class Restrictions:
    countries: frozenset[str] | None  # None = all
    categories: frozenset[str] | None

    @classmethod
    def of(cls, caller) -> "Restrictions":
        return cls(caller.countries, caller.categories)

    def violations(self, countries=(), categories=()) -> list[str]:
        violated = []
        if self.countries is not None:
            violated += [f"country:{c}" for c in dict.fromkeys(countries)
                         if c not in self.countries]
        if self.categories is not None:
            violated += [f"category:{c}" for c in dict.fromkeys(categories)
                         if c not in self.categories]
        return violated

    def check(self, countries=(), categories=()) -> None:
        violated = self.violations(countries, categories)
        if violated:
            raise Problem(403, "restricted",
                          "This key may not access " + ", ".join(violated) + ".",
                          violated=violated)

    def narrow(self, stmt, *, country=None, category=None):
        """Add ``column IN (allowed)`` for each dimension the key restricts; ``country``
        and ``category`` are the caller's columns that hold those values."""
        if country is not None and self.countries is not None:
            stmt = stmt.where(country.in_(sorted(self.countries)))
        if category is not None and self.categories is not None:
            stmt = stmt.where(category.in_(sorted(self.categories)))
        return stmt


def current_restrictions() -> Restrictions:
    return g.restrictions
