"""Restrictions: which countries and categories a key may touch.

One object, built from the key in the pipeline, used by every read and write:
- ``narrow_*`` silently limits listings to what the key may see;
- ``check`` refuses (403) an explicit request outside them, naming each violation."""
from dataclasses import dataclass

from flask import g

from .errors import Problem
from .models import Item, Store


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

    def narrow_stores(self, stmt):
        if self.countries is not None:
            stmt = stmt.where(Store.country.in_(sorted(self.countries)))
        return stmt

    def narrow_items(self, stmt):
        if self.categories is not None:
            stmt = stmt.where(Item.category.in_(sorted(self.categories)))
        return stmt

    def narrow_prices(self, stmt):
        """For statements that join Price with Store and Item."""
        return self.narrow_items(self.narrow_stores(stmt))


def current_restrictions() -> Restrictions:
    return g.restrictions
