"""Money as integer minor units: a pure module, no app needed."""
from app.market import money


def test_money_round_trips_in_minor_units():
    assert money.format_money(199, 2) == "1.99" and money.format_money(5, 2) == "0.05"
    assert money.format_money(120, 0) == "120"
    assert money.parse_money("1.99", 2) == 199 and money.parse_money("120", 0) == 120
    assert money.parse_money("1.9", 2) == 190 and money.parse_money("1E+2", 0) == 100
    for bad, digits in [("1.999", 2), ("1.5", 0), ("abc", 2), ("NaN", 2), ("inf", 2),
                        ("1.990", 2), ("120.0", 0)]:  # decimals as written
        try:
            money.parse_money(bad, digits)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")
