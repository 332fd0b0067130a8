"""Plain text for the terminal: the basket answer and today's deals, as a shopper reads
them (names, sizes, distances, unit prices, sales), and the same as JSON for scripts."""
from __future__ import annotations

from typing import Any

from .catalogue import Item
from .deals import BasketAnswer, Choice, Line, Stop
from .today import DealsToday


def distance(km: float | None) -> str:
    return "" if km is None else f"{km:.1f} km"


def basket_text(answer: BasketAnswer) -> str:
    out = [f"Where to buy {_count(answer.basket)} {answer.location.within} today"
           + (f", prices in {answer.currency}" if answer.currency else "") + ":"]
    single = answer.single
    if single is None:
        out += ["", answer.note or "Nothing to buy."]
    else:
        out += ["", f"Best single store: {_store_title(single.stops[0])}, total {single.total}"]
        out += _lines(single.stops[0].lines, "  ")
        if single.missing:
            out.append(f"  Not sold there: {_names(single.missing)}.")
        out.append("")
        out += _plan(answer.plan, single, answer.small_plan)
    if answer.not_sold and single is not None:  # (without a store, the note said it all)
        out.append(f"Not sold {answer.location.within}: {_names(answer.not_sold)}.")
    if answer.unknown:
        out.append(f"Not in the catalogue: {', '.join(answer.unknown)}.")
    return "\n".join(out).rstrip()


def _count(basket: list[tuple[Item, int]]) -> str:
    """"1 item", "2 items (3 units)": the lines of the list, as the answer shows them, and
    the units only when a quantity makes them differ."""
    items, units = len(basket), sum(quantity for _, quantity in basket)
    count = f"{items} item" + ("" if items == 1 else "s")
    return count if units == items else f"{count} ({units} units)"


def _plan(plan: Choice | None, single: Choice, small: Choice | None = None) -> list[str]:
    if plan is None and small is not None and small.saving:
        names = " and ".join(stop.name for stop in small.stops)
        return [f"Best two-store plan: splitting the list over {names} would save only "
                f"{small.saving}, not worth a second trip; buy everything at "
                f"{single.stops[0].name}.", ""]
    if plan is None:
        return [f"Best two-store plan: none is cheaper; buy everything at "
                f"{single.stops[0].name}.", ""]
    gain = (f", saves {plan.saving} against {single.stops[0].name}" if plan.saving
            else ", buys every item" if not plan.missing else "")
    out = [f"Best two-store plan: total {plan.total}{gain}"]
    for stop in plan.stops:
        out.append(f"  {_store_title(stop)}: subtotal {stop.subtotal}")
        out += _lines(stop.lines, "    ")
    if plan.missing:
        out.append(f"  Still not found: {_names(plan.missing)}.")
    return out + [""]


def _store_title(stop: Stop) -> str:
    where = ", ".join(part for part in (stop.city, distance(stop.distance_km)) if part)
    return f"{stop.name} ({where})" if where else stop.name


def _lines(lines: list[Line], indent: str) -> list[str]:
    width = max((len(f"{line.quantity} x {line.item.label}") for line in lines), default=0)
    out = []
    for line in lines:
        sale = (f"  SALE, regular {line.regular_price}"
                + (f", until {line.promo_ends}" if line.promo_ends else "")) if line.on_sale else ""
        per_unit = f" ({line.per_unit})" if line.per_unit else ""
        out.append(f"{indent}{f'{line.quantity} x {line.item.label}'.ljust(width)}  "
                   f"{line.unit_price} each{per_unit}  = {line.line_total}{sale}")
    return out


def _names(items: list[Any]) -> str:
    return ", ".join(item.label for item in items)


def deals_text(today: DealsToday) -> str:
    if not today.count:
        return f"No deals {today.location.within} today."
    out = [f"Today's deals {today.location.within}, biggest saving first:"]
    for category, deals in today.categories:
        out += ["", category]
        width = max(len(deal.item.label) for deal in deals)
        for deal in deals:
            until = f", until {deal.promo_ends}" if deal.promo_ends else ""
            where = ", ".join(p for p in (deal.store_name, distance(deal.distance_km)) if p)
            out.append(f"  {deal.item.label.ljust(width)}  {deal.price} {deal.currency} "
                       f"(regular {deal.regular_price}, -{deal.saving_percent}%){until}"
                       f"  at {where}")
    return "\n".join(out)


def basket_json(answer: BasketAnswer) -> dict[str, Any]:
    def choice(c: Choice | None) -> dict[str, Any] | None:
        if c is None:
            return None
        return {"total": c.total, "saving": c.saving, "missing": [i.id for i in c.missing],
                "stores": [{"id": s.id, "name": s.name, "city": s.city,
                            "distance_km": s.distance_km, "subtotal": s.subtotal,
                            "lines": [_line_json(line) for line in s.lines]}
                           for s in c.stops]}
    return {"location": _location_json(answer.location), "country": answer.country,
            "currency": answer.currency, "best_store": choice(answer.single),
            "plan": choice(answer.plan), "small_plan": choice(answer.small_plan),
            "not_sold": [i.id for i in answer.not_sold],
            "unknown": answer.unknown}


def deals_json(today: DealsToday) -> dict[str, Any]:
    return {"location": _location_json(today.location), "categories": [
        {"category": name, "deals": [{
            "item": d.item.id, "name": d.item.name, "size": d.item.size_label,
            "store": d.store_id, "store_name": d.store_name, "distance_km": d.distance_km,
            "price": d.price, "regular_price": d.regular_price, "per_unit": d.per_unit,
            "saving_percent": d.saving_percent, "promo_ends": d.promo_ends,
            "currency": d.currency} for d in deals]} for name, deals in today.categories]}


def _line_json(line: Line) -> dict[str, Any]:
    return {"item": line.item.id, "name": line.item.name, "size": line.item.size_label,
            "quantity": line.quantity, "unit_price": line.unit_price,
            "per_unit": line.per_unit, "line_total": line.line_total,
            "on_sale": line.on_sale, "regular_price": line.regular_price,
            "promo_ends": line.promo_ends}


def _location_json(location: Any) -> dict[str, Any]:
    return {"label": location.label, "country": location.country,
            "near": list(location.near) if location.near else None,
            "radius_km": location.radius_km if location.near else None}
