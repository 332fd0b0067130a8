"""app/market/geo.py: distances against known values, the bounding box against the
exact distance (no point within the radius may fall outside the box)."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.market.geo import (
    EARTH_RADIUS_KM,
    Box,
    bounding_box,
    distance_km,
    offset,
    rounded_km,
    within,
)


def test_known_distances():
    assert distance_km(40.71, -74.01, 40.71, -74.01) == 0
    # One degree of latitude on the mean sphere is pi * R / 180.
    assert distance_km(0, 0, 1, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM / 180, rel=1e-12)
    assert rounded_km(distance_km(0, 0, 1, 0)) == 111.2  # 111.195 km
    # Antipodes: half the circumference.
    assert distance_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    # Paris - London on the sphere (Notre-Dame to Charing Cross): about 343.9 km.
    assert rounded_km(distance_km(48.8530, 2.3498, 51.5074, -0.1278)) == pytest.approx(343.9,
                                                                                      abs=0.5)
    # Across the antimeridian, the short way round.
    assert distance_km(0, 179.9, 0, -179.9) == pytest.approx(2 * 0.1 * 111.195, rel=1e-3)


def test_rounding_to_ten_metres():
    assert rounded_km(1.23456) == 1.23 and rounded_km(0.004) == 0.0 and rounded_km(9.999) == 10


def test_box_at_the_equator_and_in_the_north():
    box = bounding_box(0, 0, 111.19508)
    assert (box.min_lat, box.max_lat) == pytest.approx((-1, 1), abs=1e-6)
    assert (box.min_lon, box.max_lon) == pytest.approx((-1, 1), abs=1e-6)
    north = bounding_box(60, 10, 10)
    assert north.max_lon - north.min_lon > 2 * (north.max_lat - 60)  # meridians converge


def test_box_across_the_antimeridian_and_over_a_pole():
    box = bounding_box(0, 179.95, 20)
    assert box.wraps and box.min_lon > 179 and box.max_lon < -179
    assert within(box, 0, -179.9) and within(box, 0, 179.9) and not within(box, 0, 0)
    polar = bounding_box(89.95, 0, 20)
    assert (polar.min_lon, polar.max_lon, polar.max_lat) == (-180, 180, 90)
    assert within(polar, 89.99, 123)


def test_within_box_edges_are_inclusive():
    box = Box(1, 2, 3, 4)
    assert within(box, 1, 3) and within(box, 2, 4) and not within(box, 2.0001, 4)


def test_offset_goes_the_distance():
    for bearing in (0, 45, 90, 180, 270, 333):
        lat, lon = offset(42.3601, -71.0589, 15, bearing)
        assert distance_km(42.3601, -71.0589, lat, lon) == pytest.approx(15, abs=1e-6)
    assert offset(0, 0, 111.19508, 0) == pytest.approx((1, 0), abs=1e-6)
    assert offset(0, 179.99, 10, 90)[1] < -179  # longitudes stay in [-180, 180)


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.floats(-89.9, 89.9), st.floats(-180, 180), st.floats(0.01, 100),
       st.floats(0, 1), st.floats(0, 360))
def test_every_point_within_the_radius_is_inside_the_box(lat, lon, radius, share, bearing):
    point = offset(lat, lon, radius * share, bearing)
    assert distance_km(lat, lon, *point) <= radius * share + 1e-6
    assert within(bounding_box(lat, lon, radius * (1 + 1e-9) + 1e-9), *point)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.floats(-80, 80), st.floats(-180, 180), st.floats(0.5, 100))
def test_the_box_is_tight(lat, lon, radius):
    """Its edges are reached by the circle: a box any smaller would lose stores."""
    box = bounding_box(lat, lon, radius)
    north, _ = offset(lat, lon, radius, 0)
    assert north == pytest.approx(box.max_lat, abs=1e-9)
    widest = max((offset(lat, lon, radius, b / 10) for b in range(0, 1800)),
                 key=lambda p: (p[1] - lon + 540) % 360 - 180)
    assert (widest[1] - box.max_lon + 540) % 360 - 180 == pytest.approx(0, abs=1e-4)
