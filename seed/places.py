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
    weight: int  # share of the stores this country gets (the US: half of the demo's 40)
    cities: tuple[tuple[str, str, float, float], ...]  # (slug, name, lat, lon) of the centre
    shares: tuple[int, ...]  # per city, in order: how many of the country's stores it gets


@dataclass(frozen=True)
class ChainData:
    slug: str
    name: str
    price_level: float  # 1.0 = average; discounters ~0.85, premium ~1.2
    countries: tuple[str, ...]
    # What the chain is known for, as a factor on its price level per category: a
    # discounter is cheap on the pantry but not on fresh food, a premium grocer runs a
    # cheap produce hall. So two stores really do beat one, as in a real city.
    strengths: tuple[tuple[str, float], ...] = ()

    def level(self, category: str) -> float:
        return self.price_level * dict(self.strengths).get(category, 1.0)


COUNTRIES = (
    CountryData("US", "United States", "USD", 2, 1000, 10, (
        ("boston", "Boston", 42.3601, -71.0589), ("chicago", "Chicago", 41.8781, -87.6298),
        ("seattle", "Seattle", 47.6062, -122.3321), ("austin", "Austin", 30.2672, -97.7431),
        ("denver", "Denver", 39.7392, -104.9903), ("atlanta", "Atlanta", 33.7490, -84.3880)),
        (5, 4, 2, 2, 2, 1)),
    CountryData("CA", "Canada", "CAD", 2, 1350, 3, (
        ("toronto", "Toronto", 43.6532, -79.3832), ("montreal", "Montreal", 45.5017, -73.5673),
        ("vancouver", "Vancouver", 49.2827, -123.1207),
        ("calgary", "Calgary", 51.0447, -114.0719)),
        (3, 2, 2, 1)),
    CountryData("GB", "United Kingdom", "GBP", 2, 780, 3, (
        ("london", "London", 51.5074, -0.1278), ("manchester", "Manchester", 53.4808, -2.2426),
        ("leeds", "Leeds", 53.8008, -1.5491), ("bristol", "Bristol", 51.4545, -2.5879)),
        (3, 2, 1, 1)),
    CountryData("DE", "Germany", "EUR", 2, 920, 3, (
        ("berlin", "Berlin", 52.5200, 13.4050), ("hamburg", "Hamburg", 53.5511, 9.9937),
        ("munich", "Munich", 48.1351, 11.5820), ("cologne", "Cologne", 50.9375, 6.9603)),
        (3, 2, 2, 1)),
    CountryData("FR", "France", "EUR", 2, 950, 3, (
        ("paris", "Paris", 48.8566, 2.3522), ("lyon", "Lyon", 45.7640, 4.8357),
        ("marseille", "Marseille", 43.2965, 5.3698), ("lille", "Lille", 50.6292, 3.0573)),
        (3, 2, 1, 1)),
    CountryData("JP", "Japan", "JPY", 0, 1000, 3, (
        ("tokyo", "Tokyo", 35.6812, 139.7671), ("osaka", "Osaka", 34.6937, 135.5023),
        ("nagoya", "Nagoya", 35.1815, 136.9066), ("fukuoka", "Fukuoka", 33.5904, 130.4017)),
        (3, 2, 1, 1)),
)
# Each city sits at its real centre (WGS 84 degrees; Tokyo: Tokyo Station); its stores are
# scattered within CITY_RADIUS_KM of it (seed/catalogue.py). Migration 0002 holds a
# frozen copy of these centres for stores created before stores had coordinates.
CITY_RADIUS_KM = 15

# Every country has an average chain, a discounter and a premium one, so "where is it
# cheapest?" has an interesting answer everywhere; and each chain is cheaper than its level
# says on some categories and dearer on others (fresh food is where discounters skimp).
FRESH_HALL = (("produce", 0.7), ("meat", 0.78))        # a premium grocer's market hall
BAKER_DAIRY = (("dairy", 0.78), ("bakery", 0.78))        # a neighbourhood grocer's counter
SKIMPS_ON_FRESH = (("produce", 1.3), ("meat", 1.25), ("bakery", 1.2))  # a discounter
FRESH_FIRST = (("produce", 0.95), ("meat", 0.95), ("pantry", 1.08))     # a supermarket
CHAINS = (
    ChainData("freshmart", "FreshMart", 1.0, ("US", "CA"), FRESH_FIRST),
    ChainData("valubasket", "ValuBasket", 0.85, ("US", "CA"), SKIMPS_ON_FRESH),
    ChainData("harvest-table", "Harvest Table", 1.2, ("US",), FRESH_HALL),
    ChainData("corner-grocer", "Corner Grocer", 1.05, ("US", "GB"), BAKER_DAIRY),
    ChainData("maple-market", "Maple Market", 1.18, ("CA",), FRESH_HALL),
    ChainData("pennywise", "Pennywise", 0.86, ("GB", "DE", "FR"), SKIMPS_ON_FRESH),
    ChainData("marlow-and-co", "Marlow & Co", 1.22, ("GB",), FRESH_HALL),
    ChainData("kaufgut", "KaufGut", 0.97, ("DE",), BAKER_DAIRY),
    ChainData("feinkost-berg", "Feinkost Berg", 1.2, ("DE",), FRESH_HALL),
    ChainData("marche-vert", "Marché Vert", 1.02, ("FR",), FRESH_FIRST),
    ChainData("epicerie-fine", "Épicerie Fine", 1.21, ("FR",), BAKER_DAIRY),
    ChainData("sakura-mart", "Sakura Mart", 1.0, ("JP",), FRESH_FIRST),
    ChainData("yasuya", "Yasuya", 0.85, ("JP",), SKIMPS_ON_FRESH),
    ChainData("fujiya-select", "Fujiya Select", 1.19, ("JP",), FRESH_HALL),
)

CATEGORIES = (
    ("dairy", "Dairy & eggs"), ("produce", "Fruit & vegetables"), ("bakery", "Bakery"),
    ("meat", "Meat & fish"), ("pantry", "Pantry"), ("beverages", "Beverages"),
    ("frozen", "Frozen"), ("household", "Household"), ("books", "Books"),
    ("apparel", "Apparel"),
)


def stores_per_country(total: int) -> dict[str, int]:
    """Split ``total`` stores by country weight (largest remainder, so the sum is exact).
    With the default 40: US 16, Canada, the UK, Germany and France 5, Japan 4."""
    return _split(total, {c.code: c.weight for c in COUNTRIES})


def stores_per_city(country: CountryData, total: int) -> list[int]:
    """How many of a country's ``total`` stores each of its cities gets, in the order of
    ``country.cities``: by the cities' shares, but no city without a store while there are
    enough (one comes from the best-served city). With the default 40, the US's 16 are
    Boston 5, Chicago 4, Seattle, Austin and Denver 2, Atlanta 1: big cities have stores of
    three or more chains to choose from, as shoppers there do."""
    counts = list(_split(total, dict(enumerate(country.shares))).values())
    for n, count in enumerate(counts):
        if count == 0 and total >= len(counts):
            counts[counts.index(max(counts))] -= 1
            counts[n] = 1
    return counts


def _split(total: int, weights: dict) -> dict:
    """``total`` split in proportion to ``weights`` by largest remainder (the sum is exact;
    ties go to the earlier key)."""
    whole = sum(weights.values())
    counts = {key: total * w // whole for key, w in weights.items()}
    by_remainder = sorted(weights, key=lambda key: -(total * weights[key] % whole))
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts
