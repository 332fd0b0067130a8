"""Money as integer minor units; decimal strings only at the API edge. Pure functions."""
from decimal import Decimal, InvalidOperation
from functools import lru_cache


@lru_cache(maxsize=8192)  # a pure function of two ints; an answer formats hundreds of them
def format_money(minor_units: int, minor_digits: int) -> str:
    """199, 2 -> "1.99"; 120, 0 -> "120" (JPY has no minor unit)."""
    if minor_digits == 0:
        return str(minor_units)
    sign = "-" if minor_units < 0 else ""
    whole, fraction = divmod(abs(minor_units), 10 ** minor_digits)
    return f"{sign}{whole}.{fraction:0{minor_digits}d}"


def parse_money(text: str, minor_digits: int) -> int:
    """"1.99", 2 -> 199. Raises ValueError for anything that is not an exact amount."""
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal amount") from None
    if not amount.is_finite():
        raise ValueError(f"{text!r} is not a decimal amount")
    # Decimals as written, not as valued: "1.990" for dollars or "120.0" for yen says
    # more than the currency can, so it is refused like "1.999".
    if -amount.as_tuple().exponent > minor_digits:
        raise ValueError(f"{text!r} has more than {minor_digits} decimal places")
    return int(amount.scaleb(minor_digits))
