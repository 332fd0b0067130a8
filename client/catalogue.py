"""What the shopper's items are: names, sizes and categories, as the API tells them.

The API's price answers name items by id only (``milk-whole-1l``), so the app keeps a small
directory of the items it has seen, fed by the searches it makes (``GET /v1/items?q=``).
An id it has not seen yet is looked up once: a small catalogue is read whole (a few pages),
a large one item by item. Nothing here is hard-coded: any item the key may see can be found.
Each lookup is a call that counts against the key's daily quota, hence the cache. A
catalogue read whole is the authority until it is ``ttl`` old: an id it lacks is unknown,
answered without a call (a page full of made-up ids costs nothing).
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .sdk import StorePriceClient

WHOLE_CATALOGUE_MAX = 500  # read a catalogue this small whole, rather than item by item
LOOKUPS_PER_CALL = 30      # bound on per-item lookups for one answer (each costs a call)
SEARCH_PAGE = 50           # matches read per search, to rank them (one call)
PER_UNIT = {"kg": "kg", "l": "l", "pcs": "piece"}
ITEM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")  # what an id can look like: others are
#                                                   unknown without asking
SIZE_CLASS = (0.75, 1.34)  # an alternative's size, relative to the item's: "about the same"


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    category: str
    size: float
    unit: str  # "l", "kg" or "pcs"

    @classmethod
    def from_api(cls, row: dict[str, Any]) -> Item:
        return cls(row["id"], row["name"], row["category"], float(row["size"]), row["unit"])

    @classmethod
    def unknown(cls, item_id: str) -> Item:
        """An id the API could not describe: shown as its id."""
        return cls(item_id, item_id, "", 1.0, "pcs")

    @property
    def size_label(self) -> str:
        """"1 l", "800 g", "1.5 l", "12 pcs"; a single piece has no label."""
        if self.unit == "pcs":
            return "" if self.size == 1 else f"{self.size:g} pcs"
        small = {"kg": "g", "l": "ml"}[self.unit]
        if self.size < 1:
            return f"{self.size * 1000:g} {small}"
        return f"{self.size:g} {self.unit}"

    @property
    def size_note(self) -> str:
        """The size to show beside the name: none when the name says it already
        ("Whole milk 1 l")."""
        size = self.size_label
        return "" if not size or self.name.endswith(size) else size

    @property
    def label(self) -> str:
        """Name and size, as on a shelf label: "Milk, 1 l", "Whole milk 1 l"."""
        return f"{self.name}, {self.size_note}" if self.size_note else self.name

    @property
    def words(self) -> set[str]:
        """The words of the name without its size: {"whole", "milk"}."""
        name = self.name.removesuffix(self.size_label).lower()
        return set(re.findall(r"[^\W\d_]+", name))

    def could_replace(self, other: Item) -> bool:
        """``self`` is the same kind of product as ``other`` in about the same size: the
        same category and unit, a size within SIZE_CLASS of it, and one name within the
        other ("Whole milk" and "Sunvale value whole milk")."""
        low, high = SIZE_CLASS
        return (self.id != other.id and self.category == other.category != ""
                and self.unit == other.unit and low <= self.size / other.size <= high
                and bool(self.words) and bool(other.words)
                and (self.words <= other.words or other.words <= self.words))

    def per_unit_value(self, price: str) -> Decimal:
        """The price per kg, l or piece, for comparing items of different sizes."""
        return Decimal(price) / Decimal(str(self.size))

    def unit_price(self, price: str) -> str:
        """The comparable price per kg, l or piece, in the price's own digits:
        "2.49" for 0.8 kg -> "3.11/kg"; "499" yen for 12 eggs -> "42/piece"; "" for a
        single piece, whose price says it already."""
        if self.unit == "pcs" and self.size == 1:
            return ""
        digits = len(price.partition(".")[2])
        per = (Decimal(price) / Decimal(str(self.size))).quantize(Decimal(1).scaleb(-digits))
        return f"{per}/{PER_UNIT.get(self.unit, self.unit)}"


def _relevance(item: Item, q: str) -> tuple[bool, bool, int, str]:
    """Sort key: names starting with q, then with a word starting with q, then the
    plainest names (fewest words: "Whole milk" before "Sunfarm value whole milk")."""
    name = item.name.lower()
    words = name.split()
    return (not name.startswith(q), not any(word.startswith(q) for word in words),
            len(words), name)


def category_label(slug: str) -> str:
    """The API has no category names, only slugs: "dairy" -> "Dairy"."""
    return slug.replace("-", " ").capitalize() or "Other"


class ItemDirectory:
    """Items by id, remembered from the API's answers. Safe to share between threads."""

    def __init__(self, ttl: float = 3600) -> None:
        self.ttl = ttl
        self._items: dict[str, Item] = {}
        self._searches: dict[str, tuple[float, list[str]]] = {}
        self._read_whole_at: float | None = None
        self._complete = False   # the last whole read had the whole catalogue
        self._lock = threading.Lock()
        self._reading = threading.Lock()  # one whole read at a time

    def remember(self, rows: Iterable[dict[str, Any]]) -> list[Item]:
        items = [Item.from_api(row) for row in rows]
        with self._lock:
            self._items.update((item.id, item) for item in items)
        return items

    def search(self, api: StorePriceClient, q: str, limit: int = 8) -> list[Item]:
        """Items whose name or id contains ``q``; a repeated search within the ttl costs
        no call (a shopper typing "milk", deleting, typing again)."""
        q = " ".join(q.split()).lower()
        if not q:
            return []
        with self._lock:
            cached = self._searches.get(q)
            if cached and time.monotonic() - cached[0] < self.ttl:
                return [self._items[i] for i in cached[1] if i in self._items]
        # The API matches anywhere in a name or id, in id order; ask for a page of matches
        # and put the likeliest first, so "milk" finds "Whole milk" before brand variants.
        found = self.remember(api.items(q=q, per_page=SEARCH_PAGE)["data"])
        items = sorted(found, key=lambda item: _relevance(item, q))[:limit]
        with self._lock:
            self._searches[q] = (time.monotonic(), [item.id for item in items])
        return items

    def resolve(self, api: StorePriceClient, ids: Iterable[str],
                lookups: int = LOOKUPS_PER_CALL) -> dict[str, Item]:
        """Every id in ``ids`` described; ids the API does not know come back as
        ``Item.unknown``. At most ``lookups`` per-item calls (a large catalogue only)."""
        wanted = list(dict.fromkeys(ids))
        if self._missing(wanted) and self._read_whole_at is None:
            self.read_whole(api)
        if not self.complete:
            candidates = [i for i in self._missing(wanted) if ITEM_ID.fullmatch(i)]
            for item_id in candidates[:lookups]:
                rows = api.items(q=item_id, per_page=20)["data"]
                self.remember(row for row in rows if row["id"] == item_id)
        with self._lock:
            return {i: self._items.get(i) or Item.unknown(i) for i in wanted}

    @property
    def complete(self) -> bool:
        """Whether the directory holds the whole catalogue, read less than ``ttl`` ago."""
        return (self._complete and self._read_whole_at is not None
                and time.monotonic() - self._read_whole_at < self.ttl)

    def knows(self, item_id: str) -> bool:
        with self._lock:
            return item_id in self._items

    def alternatives(self, item: Item, limit: int = 3) -> list[Item]:
        """Items that could replace ``item`` (``Item.could_replace``), from those known."""
        with self._lock:
            known = list(self._items.values())
        return sorted((other for other in known if other.could_replace(item)),
                      key=lambda other: other.id)[:limit]

    def _missing(self, ids: list[str]) -> list[str]:
        with self._lock:
            return [i for i in ids if i not in self._items]

    def read_whole(self, api: StorePriceClient, if_older_than: float | None = None) -> None:
        """Read a catalogue of at most WHOLE_CATALOGUE_MAX items whole (a larger one: its
        first page). With ``if_older_than``, only when the last read is that old: several
        threads asking at once make one read."""
        with self._reading:
            at = self._read_whole_at
            if if_older_than is not None and at is not None and \
                    time.monotonic() - at < if_older_than:
                return
            first = api.items(per_page=100)
            rows = list(first["data"])
            complete = first["total"] <= WHOLE_CATALOGUE_MAX
            if complete:
                for page in range(2, -(-first["total"] // 100) + 1):
                    rows += api.items(page=page, per_page=100)["data"]
            if complete:  # the authority now: items gone from the API are forgotten
                items = {item.id: item for item in map(Item.from_api, rows)}
                with self._lock:
                    self._items = items
            else:
                self.remember(rows)
            self._complete = complete
            self._read_whole_at = time.monotonic()
