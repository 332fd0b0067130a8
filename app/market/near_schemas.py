"""Where a shopper looks, as the API takes it: ``near`` (a point) and ``radius_km``, in
a JSON body or a query string, both loading as one geo.Circle. The ranges are stated in
the OpenAPI document (patterns and minimum/maximum) and each 422 names what is wrong."""
import re

import marshmallow as ma
from marshmallow import fields, validate

from ..schemas import JsonNumber, QueryNumber, StrictSchema
from .geo import Circle

LAT = validate.Range(min=-90, max=90, error="Use a latitude from -90 to 90.")
LON = validate.Range(min=-180, max=180, error="Use a longitude from -180 to 180.")
RADIUS = validate.Range(min=0, min_inclusive=False, max=100,
                        error="Use a radius above 0 and at most 100 (km).")
DEFAULT_RADIUS_KM = 10
# Digits as [0-9], not \d, which in Python also matches other scripts' digits ("٤").
NEAR_SYNTAX = r"^\s*-?[0-9]{1,3}(\.[0-9]{1,17})?\s*,\s*-?[0-9]{1,3}(\.[0-9]{1,17})?\s*$"
# The same with the ranges (-90..90, -180..180) written out, so that the document states
# them in its pattern; NearArg answers which one is out of range.
LAT_PATTERN = r"-?((0{0,2}[0-9]|0?[1-8][0-9])(\.[0-9]{1,17})?|0?90(\.0{1,17})?)"
LON_PATTERN = r"-?((0{0,2}[0-9]|0?[1-9][0-9]|1[0-7][0-9])(\.[0-9]{1,17})?|180(\.0{1,17})?)"
NEAR_PATTERN = rf"^\s*{LAT_PATTERN}\s*,\s*{LON_PATTERN}\s*$"


class Point(StrictSchema):
    lat = JsonNumber(required=True, validate=LAT, metadata={"description": "degrees north"})
    lon = JsonNumber(required=True, validate=LON, metadata={"description": "degrees east"})


class NearPoint(fields.Nested):
    """``near`` in a JSON body: a Point. Anything but an object is refused with the form
    to use (fields.Nested says only "Invalid input type.", under a "_schema" key)."""

    def __init__(self, **kwargs):
        super().__init__(Point, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ma.ValidationError('Use an object: {"lat": 42.3601, "lon": -71.0589}.')
        return super()._deserialize(value, attr, data, **kwargs)


class NearArg(fields.String):
    """``near=LAT,LON`` in a query string; loads as {"lat": ..., "lon": ...}."""

    def __init__(self, metadata=None, **kwargs):
        # No "example": the fuzz tests' example phase would pair it with invalid headers.
        described = {"pattern": NEAR_PATTERN,
                     "description": "LAT,LON in degrees (WGS 84), e.g. 42.3601,-71.0589"}
        if metadata and "description" in metadata:
            described["description"] += ": " + metadata["description"]
        super().__init__(metadata=described, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(NEAR_SYNTAX, text):
            raise ma.ValidationError("Use near=LAT,LON in degrees, e.g. near=42.3601,-71.0589.")
        lat, lon = (float(part) for part in text.split(","))
        errors = [message for number, check in ((lat, LAT), (lon, LON))
                  for message in _range_errors(check, number)]
        if not errors and not re.fullmatch(NEAR_PATTERN, text):  # 90.000…01 is a float 90
            errors = ["Use a latitude from -90 to 90 and a longitude from -180 to 180."]
        if errors:
            raise ma.ValidationError(errors)
        return {"lat": lat, "lon": lon}


def _range_errors(check, number) -> list[str]:
    try:
        check(number)
    except ma.ValidationError as error:
        return error.messages
    return []


class NearbyMixin(StrictSchema):
    """radius_km beside a ``near`` field (the subclass declares which form): both load
    as one ``near`` Circle, with the radius defaulting to 10 km."""
    RADIUS_HELP = {"description": f"km around near (default {DEFAULT_RADIUS_KM}); only with "
                                  "near"}
    # The query strings' radius; a JSON body's (CheapestQuery) is a JsonNumber.
    radius_km = QueryNumber(validate=RADIUS, metadata=RADIUS_HELP)

    @ma.validates_schema
    def radius_needs_a_centre(self, data, **_):
        if "radius_km" in data and "near" not in data:
            raise ma.ValidationError("A radius needs a centre: give near too.", "radius_km")

    @ma.post_load
    def as_circle(self, data, **_):
        if "near" in data:
            point = data.pop("near")
            data["near"] = Circle(point["lat"], point["lon"],
                                  data.pop("radius_km", DEFAULT_RADIUS_KM))
        return data


NEAR_HELP = "only stores within radius_km of this point, each with its distance_km"
