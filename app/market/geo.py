"""Geography for "near me": great-circle distance and the bounding box of a radius.

Pure functions (standard library only). The store lookup uses both: the box, on indexed
lat/lon columns, cheaply excludes almost every store in the country; the exact distance
then decides for the few inside the box (the box's corners lie outside the circle).
"""
from __future__ import annotations

import math
from typing import NamedTuple

EARTH_RADIUS_KM = 6371.0088   # the IUGG mean Earth radius


class Circle(NamedTuple):
    """Where a shopper looks: a centre (degrees) and a radius (km)."""
    lat: float
    lon: float
    radius_km: float


class Box(NamedTuple):
    """Latitude and longitude ranges, in degrees. A box that crosses the antimeridian
    has min_lon > max_lon: then longitudes outside (max_lon, min_lon) are inside."""
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    @property
    def wraps(self) -> bool:
        return self.min_lon > self.max_lon


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean-radius sphere, by the haversine formula
    (numerically sound for short distances, which is what a shopper's radius is)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi, half_dlambda = (phi2 - phi1) / 2, math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def rounded_km(km: float) -> float:
    """Distances as the API shows them: to 0.01 km (10 m)."""
    return round(km, 2)


def contains(circle: Circle, lat: float, lon: float) -> float | None:
    """The exact distance from the circle's centre if (lat, lon) is within it, else None."""
    km = distance_km(circle.lat, circle.lon, lat, lon)
    return km if km <= circle.radius_km else None


def bounding_box(lat: float, lon: float, radius_km: float) -> Box:
    """The smallest lat/lon box that holds every point within ``radius_km`` of (lat, lon).

    Latitude: the radius in degrees along the meridian. Longitude: the widest extent of
    the circle, at latitude asin(sin(lat) / cos(r)) (not at the centre's latitude: the
    circle bulges towards the pole). A circle that reaches a pole holds every longitude.
    """
    angular = radius_km / EARTH_RADIUS_KM                       # radians
    min_lat = lat - math.degrees(angular)
    max_lat = lat + math.degrees(angular)
    if min_lat <= -90 or max_lat >= 90:
        return Box(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0)
    spread = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(math.radians(lat)))))
    west, east = lon - spread, lon + spread
    if west < -180:
        west += 360
    if east > 180:
        east -= 360
    return Box(min_lat, max_lat, west, east)


def within(box: Box, lat: float, lon: float) -> bool:
    """Whether a point lies in the box (the same test the database query makes)."""
    if not box.min_lat <= lat <= box.max_lat:
        return False
    if box.wraps:
        return lon >= box.min_lon or lon <= box.max_lon
    return box.min_lon <= lon <= box.max_lon


def offset(lat: float, lon: float, distance: float, bearing_degrees: float) -> tuple[float, float]:
    """The point ``distance`` km from (lat, lon) along the initial bearing (0 = north,
    90 = east): the seed places stores around their city centre with it."""
    angular, bearing = distance / EARTH_RADIUS_KM, math.radians(bearing_degrees)
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(math.sin(phi1) * math.cos(angular)
                     + math.cos(phi1) * math.sin(angular) * math.cos(bearing))
    lambda2 = lambda1 + math.atan2(math.sin(bearing) * math.sin(angular) * math.cos(phi1),
                                   math.cos(angular) - math.sin(phi1) * math.sin(phi2))
    return math.degrees(phi2), (math.degrees(lambda2) + 540) % 360 - 180
