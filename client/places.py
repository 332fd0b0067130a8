"""Where the shopper is: a city picked from a list, or coordinates ("LAT,LON").

The cities come from the API itself, not from a list in this app: ``GET /v1/stores``
gives every store the key may see with its city and coordinates, and a city's centre is
taken as the middle of its stores (the API has no city endpoint). A shopper who gives
coordinates is placed in the country of the nearest city, which the API needs to know.
"""
from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass

from .sdk import StorePriceClient

RADII_KM = (2, 5, 10, 25, 50)
DEFAULT_RADIUS_KM = 10
MAX_RADIUS_KM = 100       # the API's limit
MAX_STORE_PAGES = 20      # at 100 stores a page: enough for the demo's 1,000 stores
_NEAR = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class City:
    name: str
    country: str
    lat: float | None  # None while the API gives stores no coordinates
    lon: float | None
    stores: int
    reach_km: float = 0  # how far its farthest store is from the centre

    @property
    def radius_km(self) -> float:
        """The distance that reaches every store of the city: the default when the shopper
        has not chosen one, so that picking a city never shows an empty city."""
        return next((r for r in RADII_KM if r >= max(self.reach_km, DEFAULT_RADIUS_KM)),
                    MAX_RADIUS_KM)


@dataclass(frozen=True)
class Location:
    """Where to look: ``near`` is None when nothing better than a country is known."""
    label: str                       # "Boston" or "42.3601, -71.0589"
    country: str | None
    near: tuple[float, float] | None
    radius_km: float = DEFAULT_RADIUS_KM

    @property
    def within(self) -> str:
        """"within 10 km of Boston", for sentences."""
        return f"within {self.radius_km:g} km of {self.label}" if self.near else \
            f"in {self.label}"


def parse_near(text: str) -> tuple[float, float]:
    """"42.36,-71.06" -> (42.36, -71.06), or a ValueError saying what is wrong."""
    match = _NEAR.match(text or "")
    if not match:
        raise ValueError("Give coordinates as latitude,longitude, e.g. 42.36,-71.06.")
    lat, lon = float(match[1]), float(match[2])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("Latitude must be between -90 and 90 and longitude between -180 "
                         "and 180.")
    return lat, lon


def parse_radius(text: str | float | None) -> float | None:
    """A radius in km, or None when none was given (each place has its default)."""
    if text in (None, ""):
        return None
    try:
        radius = float(text)
    except ValueError:
        radius = -1
    if not 0 < radius <= MAX_RADIUS_KM:
        raise ValueError(f"The radius must be more than 0 and at most {MAX_RADIUS_KM} km.")
    return radius


def cities_from_stores(api: StorePriceClient) -> list[City]:
    """Every city with stores the key may see, with its centre; sorted by country, name."""
    by_city: dict[tuple[str, str], list[dict]] = {}
    for page in range(1, MAX_STORE_PAGES + 1):
        answer = api.stores(page=page, per_page=100)
        for store in answer["data"]:
            by_city.setdefault((store["country"], store["city"]), []).append(store)
        if page * 100 >= answer["total"]:
            break
    cities = []
    for (country, name), stores in sorted(by_city.items()):
        placed = [s for s in stores if s.get("lat") is not None and s.get("lon") is not None]
        if not placed:
            cities.append(City(name, country, None, None, len(stores)))
            continue
        lat = round(sum(s["lat"] for s in placed) / len(placed), 4)
        lon = round(sum(s["lon"] for s in placed) / len(placed), 4)
        reach = max(_km(lat, lon, s["lat"], s["lon"]) for s in placed)
        cities.append(City(name, country, lat, lon, len(stores), round(reach, 2)))
    return cities


def find_city(cities: list[City], name: str) -> City:
    wanted = name.strip().casefold()
    for city in cities:
        if city.name.casefold() == wanted or f"{city.name}, {city.country}".casefold() == wanted:
            return city
    known = ", ".join(city.name for city in cities) or "none"
    raise ValueError(f"No stores in a city called {name.strip()!r}. Cities: {known}.")


def nearest_city(cities: list[City], lat: float, lon: float) -> City | None:
    placed = [c for c in cities if c.lat is not None and c.lon is not None]
    return min(placed, key=lambda c: _km(lat, lon, c.lat, c.lon), default=None)  # type: ignore[arg-type]


def city_location(city: City, radius_km: float | None = None) -> Location:
    near = (city.lat, city.lon) if city.lat is not None and city.lon is not None else None
    return Location(city.name, city.country, near, radius_km or city.radius_km)


def point_location(cities: list[City], near: tuple[float, float],
                   radius_km: float | None = None) -> Location:
    city = nearest_city(cities, *near)
    return Location(f"{near[0]:.4f}, {near[1]:.4f}", city.country if city else None, near,
                    radius_km or DEFAULT_RADIUS_KM)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; only used to pick the nearest city (the API measures the
    distances it shows)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


class CityList:
    """The cities, fetched at most every ``ttl`` seconds (listing stores costs calls)."""

    def __init__(self, ttl: float = 600) -> None:
        self.ttl = ttl
        self._cities: list[City] = []
        self._at: float | None = None
        self._lock = threading.Lock()

    def get(self, api: StorePriceClient) -> list[City]:
        with self._lock:
            if self._at is not None and time.monotonic() - self._at < self.ttl:
                return self._cities
        cities = cities_from_stores(api)
        with self._lock:
            self._cities, self._at = cities, time.monotonic()
        return cities
