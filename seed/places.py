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
    cities: tuple[tuple[str, str], ...]  # (slug, name)


@dataclass(frozen=True)
class ChainData:
    slug: str
    name: str
    price_level: float  # 1.0 = average; discounters ~0.85, premium ~1.2
    countries: tuple[str, ...]


COUNTRIES = (
    CountryData("US", "United States", "USD", 2, 1000, 5, (
        ("boston", "Boston"), ("chicago", "Chicago"), ("seattle", "Seattle"),
        ("austin", "Austin"), ("denver", "Denver"), ("atlanta", "Atlanta"))),
    CountryData("CA", "Canada", "CAD", 2, 1350, 3, (
        ("toronto", "Toronto"), ("montreal", "Montreal"), ("vancouver", "Vancouver"),
        ("calgary", "Calgary"))),
    CountryData("GB", "United Kingdom", "GBP", 2, 780, 3, (
        ("london", "London"), ("manchester", "Manchester"), ("leeds", "Leeds"),
        ("bristol", "Bristol"))),
    CountryData("DE", "Germany", "EUR", 2, 920, 3, (
        ("berlin", "Berlin"), ("hamburg", "Hamburg"), ("munich", "Munich"),
        ("cologne", "Cologne"))),
    CountryData("FR", "France", "EUR", 2, 950, 3, (
        ("paris", "Paris"), ("lyon", "Lyon"), ("marseille", "Marseille"), ("lille", "Lille"))),
    CountryData("JP", "Japan", "JPY", 0, 1000, 3, (
        ("tokyo", "Tokyo"), ("osaka", "Osaka"), ("nagoya", "Nagoya"),
        ("fukuoka", "Fukuoka"))),
)

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
