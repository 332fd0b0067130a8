"""The demo item catalogue: a hand-written list first, then generated brand variants.

Units are base units only (``l``, ``kg``, ``pcs``) with fractional sizes (0.8 kg, not 800 g),
so a client can always show a comparable unit price (per l, per kg, per piece).
"""
import random
from dataclasses import dataclass

UNITS = ("l", "kg", "pcs")


@dataclass(frozen=True)
class ItemData:
    slug: str
    name: str
    category: str
    size: float
    unit: str
    base_cents: int  # typical US price in cents; stores scale it (see places.price_pm)
    staple: bool = False  # carried by (almost) every grocery store
    everyday: bool = False  # a hand-written grocery: carried by most grocery stores


def size_label(size: float, unit: str, display: bool = False) -> str:
    """The size as it appears in a slug ("800g", "1l", "1500ml", "12") or, with display,
    in a name ("800 g", "1 l", "1.5 l", "12 pcs"). One piece has no label at all."""
    if unit == "pcs":
        return "" if size == 1 else f"{size:g} pcs" if display else f"{size:g}"
    small = {"kg": "g", "l": "ml"}[unit]
    if size < 1 or (not display and size != int(size)):  # no dots in slugs
        return f"{size * 1000:g} {small}" if display else f"{size * 1000:g}{small}"
    return f"{size:g} {unit}" if display else f"{size:g}{unit}"


# (slug stem, name, category, size, unit, US cents). The first ten are the staples that the
# README's curl examples use; never rename them.
HANDWRITTEN = [
    ("milk-whole", "Whole milk", "dairy", 1, "l", 139),
    ("eggs-free-range", "Free-range eggs", "dairy", 12, "pcs", 499),
    ("bread-sourdough", "Sourdough bread", "bakery", 0.8, "kg", 479),
    ("butter-salted", "Salted butter", "dairy", 0.25, "kg", 349),
    ("bananas", "Bananas", "produce", 1, "kg", 149),
    ("coffee-ground", "Ground coffee", "beverages", 0.5, "kg", 899),
    ("apples-gala", "Gala apples", "produce", 1, "kg", 379),
    ("cheddar-mature", "Mature cheddar", "dairy", 0.4, "kg", 599),
    ("pasta-penne", "Penne pasta", "pantry", 0.5, "kg", 169),
    ("tomatoes-canned", "Chopped tomatoes, canned", "pantry", 0.4, "kg", 119),
    ("milk-oat", "Oat drink", "dairy", 1, "l", 289),
    ("yogurt-greek", "Greek yogurt", "dairy", 0.5, "kg", 399),
    ("cream-double", "Double cream", "dairy", 0.3, "l", 259),
    ("mozzarella", "Mozzarella", "dairy", 0.125, "kg", 189),
    ("carrots", "Carrots", "produce", 1, "kg", 129),
    ("potatoes", "Potatoes", "produce", 2, "kg", 349),
    ("onions-yellow", "Yellow onions", "produce", 1, "kg", 179),
    ("tomatoes-vine", "Vine tomatoes", "produce", 0.5, "kg", 299),
    ("avocados", "Avocados", "produce", 2, "pcs", 349),
    ("strawberries", "Strawberries", "produce", 0.4, "kg", 449),
    ("spinach-baby", "Baby spinach", "produce", 0.2, "kg", 279),
    ("bread-white", "White bread", "bakery", 0.8, "kg", 249),
    ("baguette", "Baguette", "bakery", 0.25, "kg", 199),
    ("croissants", "Butter croissants", "bakery", 4, "pcs", 449),
    ("bagels-plain", "Plain bagels", "bakery", 5, "pcs", 379),
    ("tortillas-wheat", "Wheat tortillas", "bakery", 8, "pcs", 299),
    ("chicken-breast", "Chicken breast", "meat", 1, "kg", 1099),
    ("beef-mince", "Beef mince", "meat", 0.5, "kg", 649),
    ("pork-chops", "Pork chops", "meat", 0.6, "kg", 799),
    ("bacon-smoked", "Smoked bacon", "meat", 0.2, "kg", 499),
    ("salmon-fillets", "Salmon fillets", "meat", 0.24, "kg", 899),
    ("sausages-pork", "Pork sausages", "meat", 0.4, "kg", 549),
    ("rice-basmati", "Basmati rice", "pantry", 1, "kg", 349),
    ("flour-plain", "Plain flour", "pantry", 1, "kg", 149),
    ("sugar-white", "White sugar", "pantry", 1, "kg", 189),
    ("olive-oil-extra-virgin", "Extra virgin olive oil", "pantry", 0.75, "l", 999),
    ("peanut-butter", "Peanut butter", "pantry", 0.34, "kg", 329),
    ("honey", "Honey", "pantry", 0.34, "kg", 549),
    ("oats-rolled", "Rolled oats", "pantry", 1, "kg", 299),
    ("cornflakes", "Cornflakes", "pantry", 0.5, "kg", 399),
    ("tea-black", "Black tea bags", "beverages", 80, "pcs", 449),
    ("orange-juice", "Orange juice", "beverages", 1, "l", 349),
    ("water-sparkling", "Sparkling water", "beverages", 1.5, "l", 99),
    ("cola", "Cola", "beverages", 2, "l", 249),
    ("wine-red", "Red wine", "beverages", 0.75, "l", 1199),
    ("peas-frozen", "Frozen peas", "frozen", 1, "kg", 299),
    ("pizza-margherita", "Pizza margherita", "frozen", 0.4, "kg", 449),
    ("ice-cream-vanilla", "Vanilla ice cream", "frozen", 1, "l", 549),
    ("fries-frozen", "Oven fries", "frozen", 1, "kg", 349),
    ("toilet-paper", "Toilet paper", "household", 9, "pcs", 699),
    ("dish-soap", "Dish soap", "household", 0.5, "l", 249),
    ("laundry-detergent", "Laundry detergent", "household", 2, "l", 1299),
    ("paper-towels", "Paper towels", "household", 2, "pcs", 399),
    ("book-pride-and-prejudice", "Pride and Prejudice (paperback)", "books", 1, "pcs", 899),
    ("book-moby-dick", "Moby-Dick (paperback)", "books", 1, "pcs", 1099),
    ("book-frankenstein", "Frankenstein (paperback)", "books", 1, "pcs", 799),
    ("book-the-great-gatsby", "The Great Gatsby (hardcover)", "books", 1, "pcs", 1999),
    ("tshirt-cotton-white-m", "Cotton T-shirt, white, M", "apparel", 1, "pcs", 1299),
    ("socks-crew-black", "Crew socks, black", "apparel", 3, "pcs", 999),
    ("jeans-slim-indigo-32", "Slim jeans, indigo, 32", "apparel", 1, "pcs", 4999),
    ("hoodie-grey-l", "Hoodie, grey, L", "apparel", 1, "pcs", 3499),
]
STAPLES = 10  # the first ten above

# Generated items: <brand>-<variant>-<grocery item>, plus books and clothes. 20 x 20
# made-up brand names x 6 variants x 54 groceries leaves room for 100,000+ unique items.
_BRAND_START = ("sun", "green", "oak", "river", "north", "silver", "golden", "meadow", "hill",
                "maple", "stone", "clear", "blue", "wild", "fair", "lake", "pine", "rose",
                "west", "bright")
_BRAND_END = ("vale", "field", "ridge", "brook", "farm", "wood", "crest", "gate", "haven",
              "dale", "mill", "side", "view", "land", "wick", "ford", "moor", "leigh",
              "stead", "bury")
_GROCERIES = [row for row in HANDWRITTEN if row[2] not in ("books", "apparel")]
_VARIANTS = (("classic", 1, 1.0), ("organic", 1, 1.35), ("value", 1, 0.75),  # (name, size x,
             ("premium", 1, 1.45), ("family", 2, 1.8), ("mini", 0.5, 0.6))  # price x)
_ADJECTIVES = ("silent", "hidden", "golden", "broken", "distant", "winter", "burning",
               "quiet", "last", "crimson", "forgotten", "northern", "secret", "endless",
               "paper", "glass", "iron", "lonely", "wandering", "bright", "hollow", "salt",
               "summer", "midnight", "restless", "velvet", "lost", "open", "wild", "borrowed")
_NOUNS = ("harbor", "garden", "river", "orchard", "lantern", "mountain", "kingdom", "letter",
          "island", "station", "forest", "mirror", "compass", "city", "house", "bridge",
          "archive", "voyage", "promise", "tide", "cartographer", "lighthouse", "season",
          "atlas", "meadow", "signal", "inheritance", "clockmaker", "road", "shore")
_FORMATS = (("paperback", 999), ("hardcover", 2199), ("audiobook", 1899))
_GARMENTS = (("tshirt", "T-shirt", 1299), ("hoodie", "hoodie", 3499), ("jeans", "jeans", 4999),
             ("sweater", "sweater", 3999), ("shorts", "shorts", 2499), ("jacket", "jacket", 7999),
             ("polo", "polo shirt", 2299), ("leggings", "leggings", 2799))
_COLOURS = ("black", "white", "grey", "navy", "olive", "red", "blue", "beige", "green", "pink")
_SIZES = ("xs", "s", "m", "l", "xl")


def _item(stem: str, name: str, category: str, size: float, unit: str, cents: int,
          staple: bool = False, everyday: bool = False) -> ItemData:
    """Slug and name get the size appended: ("milk-whole", "Whole milk", ..., 1, "l")
    -> "milk-whole-1l", "Whole milk 1 l"."""
    return ItemData(f"{stem}-{size_label(size, unit)}".rstrip("-"),
                    f"{name} {size_label(size, unit, True)}".rstrip(), category, size, unit,
                    cents, staple, everyday)


def _generated(rng: random.Random) -> ItemData:
    """One random candidate; ~90% groceries, 5% books, 5% apparel, like the list above."""
    roll = rng.random()
    if roll < 0.05:
        adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
        form, cents = rng.choice(_FORMATS)
        return _item(f"book-the-{adjective}-{noun}-{form}",
                     f"The {adjective.title()} {noun.title()} ({form})", "books", 1, "pcs",
                     round(cents * rng.uniform(0.8, 1.3)))
    brand = rng.choice(_BRAND_START) + rng.choice(_BRAND_END)
    if roll < 0.10:
        (garment, name, cents), colour = rng.choice(_GARMENTS), rng.choice(_COLOURS)
        size = rng.choice(_SIZES)
        return _item(f"{brand}-{garment}-{colour}-{size}",
                     f"{brand.title()} {name}, {colour}, {size.upper()}", "apparel", 1, "pcs",
                     round(cents * rng.uniform(0.8, 1.3)))
    stem, name, category, size, unit, cents = rng.choice(_GROCERIES)
    variant, size_x, price_x = rng.choice(_VARIANTS)
    # Whole pieces stay whole (a mini pack of 5 bagels has 2); weights keep 3 decimals.
    size = max(1, round(size * size_x)) if unit == "pcs" else round(size * size_x, 3)
    return _item(f"{brand}-{variant}-{stem}", f"{brand.title()} {variant} {name.lower()}",
                 category, size, unit, round(cents * price_x * rng.uniform(0.9, 1.1)))


def catalogue_items(count: int, rng: random.Random) -> list[ItemData]:
    """The first ``count`` items: the hand-written ones first (staples at the front), then
    generated ones, skipping any slug already taken. Same rng state -> same list."""
    if count > 100_000:
        raise ValueError("the demo catalogue has room for at most 100,000 items")
    items = [_item(*row, staple=n < STAPLES, everyday=row[2] not in ("books", "apparel"))
             for n, row in enumerate(HANDWRITTEN)][:count]
    seen = {item.slug for item in items}
    while len(items) < count:
        item = _generated(rng)
        if item.slug not in seen:
            seen.add(item.slug)
            items.append(item)
    return items
