"""Where the shopper is: a city picked from a list, or coordinates ("LAT,LON").

The cities come from the API itself, not from a list in this app: ``GET /v1/stores``
gives every store the key may see with its city and coordinates (the API has no city
endpoint). A city's centre is where the city really is, from a small gazetteer of the
cities this partner serves (``CENTRES``; a real app would ask a geocoder); a city missing
from it is placed at the middle of its stores. The middle of two stores is nowhere a
shopper stands: measured from there, both stores look equally near. A shopper who gives
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
# (country, city) -> (lat, lon) of the city centre, WGS 84 degrees (Tokyo: Tokyo Station).
CENTRES = {
    ("US", "Boston"): (42.3601, -71.0589), ("US", "Chicago"): (41.8781, -87.6298),
    ("US", "Seattle"): (47.6062, -122.3321), ("US", "Austin"): (30.2672, -97.7431),
    ("US", "Denver"): (39.7392, -104.9903), ("US", "Atlanta"): (33.7490, -84.3880),
    ("US", "New York"): (40.7128, -74.0060),
    ("CA", "Toronto"): (43.6532, -79.3832), ("CA", "Montreal"): (45.5017, -73.5673),
    ("CA", "Vancouver"): (49.2827, -123.1207), ("CA", "Calgary"): (51.0447, -114.0719),
    ("GB", "London"): (51.5074, -0.1278), ("GB", "Manchester"): (53.4808, -2.2426),
    ("GB", "Leeds"): (53.8008, -1.5491), ("GB", "Bristol"): (51.4545, -2.5879),
    ("DE", "Berlin"): (52.5200, 13.4050), ("DE", "Hamburg"): (53.5511, 9.9937),
    ("DE", "Munich"): (48.1351, 11.5820), ("DE", "Cologne"): (50.9375, 6.9603),
    ("FR", "Paris"): (48.8566, 2.3522), ("FR", "Lyon"): (45.7640, 4.8357),
    ("FR", "Marseille"): (43.2965, 5.3698), ("FR", "Lille"): (50.6292, 3.0573),
    ("JP", "Tokyo"): (35.6812, 139.7671), ("JP", "Osaka"): (34.6937, 135.5023),
    ("JP", "Nagoya"): (35.1815, 136.9066), ("JP", "Fukuoka"): (33.5904, 130.4017),
}
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
    stores_in: str | None = None     # a city without coordinates: only its stores count

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
    return cities_and_stores(api)[0]


def cities_and_stores(api: StorePriceClient) -> tuple[list[City], dict[str, dict]]:
    """The cities, and the stores by id (their names, for answers that give only ids)."""
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
        lat, lon = CENTRES.get((country, name)) or (
            round(sum(s["lat"] for s in placed) / len(placed), 4),
            round(sum(s["lon"] for s in placed) / len(placed), 4))
        reach = max(_km(lat, lon, s["lat"], s["lon"]) for s in placed)
        cities.append(City(name, country, lat, lon, len(stores), round(reach, 2)))
    return cities, {s["id"]: s for stores in by_city.values() for s in stores}


def busiest_city(cities: list[City]) -> City | None:
    """Where a shopper who has said nothing is most likely to find a choice: the city
    with the most stores (the first of them, in the list's order, on a tie)."""
    return max(cities, key=lambda city: city.stores, default=None)


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
    return Location(city.name, city.country, near, radius_km or city.radius_km,
                    None if near else city.name)


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
    """The cities and stores, fetched at most every ``ttl`` seconds whoever asks (listing
    stores costs calls): one fetch at a time, the others wait for its answer."""

    def __init__(self, ttl: float = 600) -> None:
        self.ttl = ttl
        self._cities: list[City] = []
        self._stores: dict[str, dict] = {}
        self._at: float | None = None
        self._lock = threading.Lock()

    def get(self, api: StorePriceClient) -> list[City]:
        return self.get_with_stores(api)[0]

    def get_with_stores(self, api: StorePriceClient) -> tuple[list[City], dict[str, dict]]:
        with self._lock:
            if self._at is None or time.monotonic() - self._at >= self.ttl:
                self._cities, self._stores = cities_and_stores(api)
                self._at = time.monotonic()
            return self._cities, self._stores
