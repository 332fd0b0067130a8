"""Where the demo stores are: countries with their currencies, chains and cities.

Prices are authored in US cents and converted per country with ``price_pm`` (per mille), so
one base price per item gives plausible local prices everywhere: a 249-cent item costs about
CA$3.36, £1.94, 2.29 EUR and ¥249 (yen have no minor unit, so ~100x the dollar figure).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class CountryData:
    code: str
    name: str
    currency: str
    minor_digits: int
    price_pm: int  # local minor units per 1000 US cents
    weight: int  # share of the stores this country gets
    cities: tuple[tuple[str, str, float, float], ...]  # (slug, name, lat, lon) of the centre


@dataclass(frozen=True)
class ChainData:
    slug: str
    name: str
    price_level: float  # 1.0 = average; discounters ~0.85, premium ~1.2
    countries: tuple[str, ...]


COUNTRIES = (
    CountryData("US", "United States", "USD", 2, 1000, 5, (
        ("boston", "Boston", 42.3601, -71.0589), ("chicago", "Chicago", 41.8781, -87.6298),
        ("seattle", "Seattle", 47.6062, -122.3321), ("austin", "Austin", 30.2672, -97.7431),
        ("denver", "Denver", 39.7392, -104.9903), ("atlanta", "Atlanta", 33.7490, -84.3880))),
    CountryData("CA", "Canada", "CAD", 2, 1350, 3, (
        ("toronto", "Toronto", 43.6532, -79.3832), ("montreal", "Montreal", 45.5017, -73.5673),
        ("vancouver", "Vancouver", 49.2827, -123.1207),
        ("calgary", "Calgary", 51.0447, -114.0719))),
    CountryData("GB", "United Kingdom", "GBP", 2, 780, 3, (
        ("london", "London", 51.5074, -0.1278), ("manchester", "Manchester", 53.4808, -2.2426),
        ("leeds", "Leeds", 53.8008, -1.5491), ("bristol", "Bristol", 51.4545, -2.5879))),
    CountryData("DE", "Germany", "EUR", 2, 920, 3, (
        ("berlin", "Berlin", 52.5200, 13.4050), ("hamburg", "Hamburg", 53.5511, 9.9937),
        ("munich", "Munich", 48.1351, 11.5820), ("cologne", "Cologne", 50.9375, 6.9603))),
    CountryData("FR", "France", "EUR", 2, 950, 3, (
        ("paris", "Paris", 48.8566, 2.3522), ("lyon", "Lyon", 45.7640, 4.8357),
        ("marseille", "Marseille", 43.2965, 5.3698), ("lille", "Lille", 50.6292, 3.0573))),
    CountryData("JP", "Japan", "JPY", 0, 1000, 3, (
        ("tokyo", "Tokyo", 35.6812, 139.7671), ("osaka", "Osaka", 34.6937, 135.5023),
        ("nagoya", "Nagoya", 35.1815, 136.9066), ("fukuoka", "Fukuoka", 33.5904, 130.4017))),
)
# Each city sits at its real centre (WGS 84 degrees; Tokyo: Tokyo Station); its stores are
# scattered within CITY_RADIUS_KM of it (seed/catalogue.py). Migration 0002 holds a
# frozen copy of these centres for stores created before stores had coordinates.
CITY_RADIUS_KM = 15

# Every country has an average chain, a discounter and a premium one, so "where is it
# cheapest?" has an interesting answer everywhere.
CHAINS = (
    ChainData("freshmart", "FreshMart", 1.0, ("US", "CA")),
    ChainData("valubasket", "ValuBasket", 0.85, ("US", "CA")),
    ChainData("harvest-table", "Harvest Table", 1.2, ("US",)),
    ChainData("corner-grocer", "Corner Grocer", 1.05, ("US", "GB")),
    ChainData("maple-market", "Maple Market", 1.18, ("CA",)),
    ChainData("pennywise", "Pennywise", 0.86, ("GB", "DE", "FR")),
    ChainData("marlow-and-co", "Marlow & Co", 1.22, ("GB",)),
    ChainData("kaufgut", "KaufGut", 0.97, ("DE",)),
    ChainData("feinkost-berg", "Feinkost Berg", 1.2, ("DE",)),
    ChainData("marche-vert", "Marché Vert", 1.02, ("FR",)),
    ChainData("epicerie-fine", "Épicerie Fine", 1.21, ("FR",)),
    ChainData("sakura-mart", "Sakura Mart", 1.0, ("JP",)),
    ChainData("yasuya", "Yasuya", 0.85, ("JP",)),
    ChainData("fujiya-select", "Fujiya Select", 1.19, ("JP",)),
)

CATEGORIES = (
    ("dairy", "Dairy & eggs"), ("produce", "Fruit & vegetables"), ("bakery", "Bakery"),
    ("meat", "Meat & fish"), ("pantry", "Pantry"), ("beverages", "Beverages"),
    ("frozen", "Frozen"), ("household", "Household"), ("books", "Books"),
    ("apparel", "Apparel"),
)


def stores_per_country(total: int) -> dict[str, int]:
    """Split ``total`` stores by country weight (largest remainder, so the sum is exact).
    With the default 40: US 10, every other country 6."""
    weights = {c.code: c.weight for c in COUNTRIES}
    whole = sum(weights.values())
    counts = {code: total * w // whole for code, w in weights.items()}
    by_remainder = sorted(weights, key=lambda code: -(total * weights[code] % whole))
    for code in by_remainder[: total - sum(counts.values())]:
        counts[code] += 1
    return counts
