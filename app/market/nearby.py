"""Stores near a point ("near me"), without scanning the country's stores.

Two steps: the database returns only the stores inside the circle's bounding box, which
the (country, lat, lon) index answers with a range scan; then the exact great-circle
distance (geo.py) keeps those truly within the radius, since a box's corners lie outside
its circle. Stores with no coordinates (NULL) never match the box.
"""
from sqlalchemy import and_, or_

from ..extensions import request_connection
from . import geo
from .models import Store


def in_box(box: geo.Box, lat=Store.lat, lon=Store.lon):
    """The SQL condition "(lat, lon) lies in the box", also across the antimeridian."""
    longitudes = (or_(lon >= box.min_lon, lon <= box.max_lon) if box.wraps
                  else lon.between(box.min_lon, box.max_lon))
    return and_(lat.between(box.min_lat, box.max_lat), longitudes)


def stores_near(stmt, circle: geo.Circle, params: dict | None = None) -> list[tuple[float, object]]:
    """Run ``stmt`` (a select of stores with ``slug``, ``lat`` and ``lon`` among its columns)
    for the stores in the circle: [(exact distance in km, row)], nearest first (tie: slug)."""
    box = geo.bounding_box(circle.lat, circle.lon, circle.radius_km)
    found = []
    for row in request_connection().execute(stmt.where(in_box(box)), params or {}):
        km = geo.contains(circle, row.lat, row.lon)
        if km is not None:
            found.append((km, row))
    found.sort(key=lambda pair: (pair[0], pair[1].slug))
    return found


def no_store_note(circle: geo.Circle) -> str:
    """What an answer says when its radius holds no store (an answer, not an error)."""
    lat, lon, radius = (_exactly(number) for number in circle)
    return (f"No store within {radius} km of ({lat}, {lon}): "
            "try a larger radius_km (up to 100) or another point.")


def _exactly(number: float) -> str:
    """The number as given (repr round-trips a float), without a trailing ".0": rounded,
    "4.08508 km" could hold a store at 4.085076 km that a radius of 4.0850755 does not."""
    text = repr(float(number))
    return text.removesuffix(".0")
