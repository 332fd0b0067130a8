"""Turn the measurements into the printed table, the targets and latest.json."""
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .throughput import WORKERS

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

# The performance targets of the reference app (ratios are against the bare route, or
# the naive peer, measured in the same run), checked on the served configuration at the
# highest connection count, on SQLite + memory:// and on PostgreSQL + Redis.
KEY_RATIO = 0.55        # GET /v1/key: the whole key pipeline around a trivial handler
BASKET_RATIO = 0.08     # POST /v1/cheapest-stores, 10 items, max_stores 2, vs bare
BASKET_VS_PEER = 4.0    # ... vs the naive peer's top-5 single stores in SQL
NEAR_VS_PLAIN = 1.0     # the same basket near a point (10 km): at least as fast
GROWTH_RATIO = 2.0      # basket latency, 2,000 -> 50,000 items over 1,000 stores
ENGINE_P99_MS = 50      # exact 3-store plan, 20 items, 1,000 stores (p99 of all runs)
WORKER_RSS_MB = 120     # peak resident memory of one app worker
KEY_VS_PEER = 1.5       # GET /v1/key vs the naive peer
ITEMS_VS_PEER = 1.5     # GET /v1/items?per_page=1 vs the naive peer
# Which in-process CPU measurement (bench/cpu.py) belongs to which served table.
CPU_OF = {"served_sqlite": "cpu_sqlite", "served_postgres": "cpu_postgres"}
TABLES = {"served_sqlite": "served configuration, SQLite + memory://",
          "served_postgres": "served configuration, PostgreSQL + Redis",
          "sync_sqlite": "sync workers, SQLite + memory://",
          "sync_postgres": "sync workers, PostgreSQL + Redis"}


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    passed: bool
    note: str = ""


def targets(results: dict) -> list[Target]:
    http, engine, growth = results["http"], results["engine"], results["growth"]
    found = []
    for name in ("served_sqlite", "served_postgres"):
        if name in http:
            found += table_targets(http, name)
    if growth:
        small, large = growth["small"], growth["large"]
        proxy = "" if large["items"] == 50_000 else (
            f"measured up to {large['items']:,} items, not the 50,000 the target is defined for")
        found.append(Target(f"basket latency {small['items']:,} -> {large['items']:,} items",
                            f"< {GROWTH_RATIO:g} x", f"{growth['ratio']:.2f} x",
                            growth["ratio"] < GROWTH_RATIO, proxy))
    for family, label in (("seed-like", "engine: exact 3-store plan, 20 items, 1,000 stores"),
                          ("chain-wide", "engine: the same with chain-wide prices")):
        if not engine:
            break
        runs = engine[family]
        found.append(Target(label, f"p99 < {ENGINE_P99_MS} ms, exact",
                            f"p99 {runs['p99_ms']:.1f} ms, median {runs['median_ms']:.1f}, "
                            f"exact {runs['exact_runs']}/{len(runs['runs_ms'])}",
                            runs["p99_ms"] < ENGINE_P99_MS and runs["exact"],
                            f"CPU time; wall-clock p99 {runs['wall_p99_ms']:.1f} ms"))
    rss = max(max(table["app_worker_peak_rss_mb"]) for name, table in http.items()
              if name in TABLES)
    found.append(Target("app worker peak RSS (VmHWM)", f"< {WORKER_RSS_MB} MB",
                        f"{rss:.1f} MB", rss < WORKER_RSS_MB))
    return found


def table_targets(http: dict, name: str) -> list[Target]:
    """The ratio targets on one table's highest connection count."""
    table = http[name]
    count = max(table["by_connections"], key=int)
    rows, where = table["by_connections"][count], f"[{TABLES[name]}, -c{count}]"
    found = []
    ceilings = {  # the best any implementation could do here: see bench/floor.py
        "key": f"the floor (the same guarantees with raw drivers, bench/floor.py) reached "
               f"{rows['key_floor']['ratio']:.2f} x in this run",
        "key_peer": floor_note(rows, "key"), "items_peer": floor_note(rows, "items"),
        "basket": f"the engine alone takes {http['basket_engine_ms']:.2f} ms per basket: "
                  f"{engine_ceiling(http, rows):.2f} x at most, with nothing else to do"}
    cpu = http.get(CPU_OF[name])
    for row in ("key", "items", "basket") if cpu else ():
        bound = cpu_ceiling(cpu, rows, row)
        note = (f"its CPU per call in process ({cpu['app'][row]['cpu_ms']:.2f} ms, the peer's "
                f"{cpu['peer'][row]['cpu_ms']:.2f}) allows at most {bound / rows['bare']['rps']:.3f}"
                f" x bare and {bound / rows[f'peer_{row}']['rps']:.2f} x the peer, with no "
                f"serving loss at all")
        for target in (row, f"{row}_peer"):
            ceilings[target] = "; ".join(filter(None, [ceilings.get(target, ""), note]))
    for label, row, goal in (("GET /v1/key vs bare", "key", KEY_RATIO),
                             ("POST /v1/cheapest-stores vs bare", "basket", BASKET_RATIO)):
        target = rows[row]
        invalid = f"{target['errors']} error responses" if target["errors"] else ""
        passed = target["ratio"] >= goal and not invalid
        found.append(Target(f"{where} {label}", f">= {goal:.2f} x bare",
                            f"{target['ratio']:.3f} x", passed,
                            invalid or ("" if passed else ceilings[row])))
    for label, row, goal in (("POST /v1/cheapest-stores vs naive peer", "basket",
                              BASKET_VS_PEER),
                             ("GET /v1/key vs naive peer", "key", KEY_VS_PEER),
                             ("GET /v1/items?per_page=1 vs naive peer", "items",
                              ITEMS_VS_PEER)):
        target, peer = rows[row], rows[f"peer_{row}"]
        errors = target["errors"] + peer["errors"]
        passed = target["vs_peer"] >= goal and not errors
        found.append(Target(f"{where} {label}", f">= {goal:g} x peer",
                            f"{target['vs_peer']:.2f} x", passed,
                            f"{errors} error responses" if errors else
                            "" if passed else ceilings.get(f"{row}_peer", "")))
    near = rows["basket_near"]
    found.append(Target(f"{where} basket near (10 km) vs without", f">= {NEAR_VS_PLAIN:g} x",
                        f"{near['vs_without_near']:.2f} x",
                        near["vs_without_near"] >= NEAR_VS_PLAIN and not near["errors"],
                        f"{near['errors']} error responses" if near["errors"] else ""))
    return found


def floor_note(rows: dict, row: str) -> str:
    floor = rows.get(f"{row}_floor")
    if floor is None:
        return ""
    return (f"the floor (the same guarantees with raw drivers, bench/floor.py) reached "
            f"{floor['vs_peer']:.2f} x the peer in this run")


def cpu_ceiling(cpu: dict, rows: dict, row: str) -> float:
    """The most req/s the app could serve ``row`` at, were its only cost over the bare
    route's the CPU its code burns per call (bench/cpu.py): the bare route's measured
    time per request, plus that extra CPU shared by the workers' cores (one each: the
    GIL)."""
    cores = min(os.cpu_count() or 1, WORKERS)
    extra_s = (cpu["app"][row]["cpu_ms"] - cpu["bare"]["bare"]["cpu_ms"]) / 1000
    return 1 / (1 / rows["bare"]["rps"] + extra_s / cores)


def print_cpu(name: str, cpu: dict, rows: dict) -> None:
    """CPU and wall time per call in process, and the ceilings they set on the table."""
    print(f"\nCPU per call in process ({TABLES[name].split(', ')[1]}; one thread, the Flask "
          f"test client, bench/cpu.py), ms CPU / ms wall:")
    print(f"{'call':<8} | {'bare':>13} | {'floor':>13} | {'peer':>13} | {'app':>13} | "
          f"{'app ceiling: bare x':>19} {'peer x':>7}")
    for row in ("bare", "key", "items", "basket"):
        cells = ""
        for server in ("bare", "floor", "peer", "app"):
            found = cpu[server].get(row)
            cells += f" | {found['cpu_ms']:>6.3f}/{found['wall_ms']:<6.3f}" if found else \
                f" | {'':>13}"
        ceiling = ""
        if row != "bare":
            bound = cpu_ceiling(cpu, rows, row)
            ceiling = (f" | {bound / rows['bare']['rps']:>19.3f} "
                       f"{bound / rows[f'peer_{row}']['rps']:>7.2f}")
        print(f"{row:<8}{cells}{ceiling}")
    print("  the ceiling: the most the app could reach against this table's bare route and "
          "peer (measured, highest -c) if serving cost it nothing beyond its CPU per call"
          + ("" if name.endswith("sqlite") else "; the database server's own CPU, on the "
             "same cores, is not counted, so here the ceiling is looser still"))


def engine_ceiling(http: dict, rows: dict) -> float:
    """Requests per second if each worker did nothing but run the engine, over bare."""
    return WORKERS * 1000 / http["basket_engine_ms"] / rows["bare"]["rps"]


def print_table(name: str, table: dict) -> None:
    counts = list(table["by_connections"])
    print(f"\n{TABLES[name]}: {table['settings']}")
    head = "".join(f" | {'-c' + c + ' req/s':>12} {'bare x':>7} {'peer x':>7} {'err':>4}"
                   for c in counts)
    print(f"{'target':<40}{head}")
    first = table["by_connections"][counts[0]]
    for row_name in first:
        cells = ""
        for c in counts:
            row = table["by_connections"][c].get(row_name)
            if row is None:
                cells += f" | {'':>12} {'':>7} {'':>7} {'':>4}"
                continue
            ratio = "1.00" if row_name == "bare" else f"{row['ratio']:.3f}"
            vs_peer = f"{row['vs_peer']:.2f}" if "vs_peer" in row else ""
            cells += f" | {row['rps']:>12.0f} {ratio:>7} {vs_peer:>7} {row['errors']:>4}"
        print(f"{first[row_name]['label'][:40]:<40}{cells}")
    for c in counts:
        rows = table["by_connections"][c]
        line = (f"  -c{c}: bare before/after {rows['bare']['runs_rps']} req/s (spread "
                f"{rows['bare']['spread_pct']:.0f} %); basket p50/p99 "
                f"{rows['basket']['p50_ms']:.1f}/{rows['basket']['p99_ms']:.1f} ms, peer's "
                f"{rows['peer_basket']['p50_ms']:.1f}/{rows['peer_basket']['p99_ms']:.1f} ms")
        if "key_under_flood" in rows:
            flooded = rows["key_under_flood"]
            line += (f"; under a bad-key flood ({flooded['flood_statuses']}) GET /v1/key "
                     f"kept {flooded['vs_unflooded']:.0%}")
        print(line)
    print(f"  worker peak RSS (MB): app {table['app_worker_peak_rss_mb']}, "
          f"bare {table['bare_worker_peak_rss_mb']}")


def print_hotkey(hot: dict) -> None:
    http = hot["http"]
    shards = http.get("shards", 8)
    print(f"\nOne hot key: GET {http['path']}, {http['settings']}")
    print(f"{'workers':>7} | {'one key req/s':>13} {'lock waiters':>12} | "
          f"{f'in {shards} shards':>13} {'lock waiters':>12} | "
          f"{str(http['many_keys']) + ' keys req/s':>13} {'lock waiters':>12} | "
          f"{'hot/many':>8} {'sharded/many':>12}")
    for point in http["curve"]:
        hot_, sharded, many = point["hot"], point["sharded"], point["many"]
        print(f"{point['workers']:>7} | {hot_['rps']:>13.0f} {hot_['lock_waiters']['mean']:>12} | "
              f"{sharded['rps']:>13.0f} {sharded['lock_waiters']['mean']:>12} | "
              f"{many['rps']:>13.0f} {many['lock_waiters']['mean']:>12} | "
              f"{point['hot_vs_many']:>8.2f} {point['sharded_vs_many']:>12.2f}")
    print(f"  every key's daily_quota equals its admitted usage after the load: "
          f"{http['quota_exact']}")
    database = hot["database"]
    print(f"The database alone (raw psycopg, admission + completion transactions, "
          f"{database['seconds']:g} s per point):")
    print(f"{'processes':>9} | {'one key calls/s':>15} {'lock waiters':>12} | "
          f"{f'in {shards} shards':>15} {'lock waiters':>12} | "
          f"{'own keys calls/s':>16} {'lock waiters':>12} | {'hot/spread':>10} "
          f"{'sharded/spread':>14}")
    for point in database["curve"]:
        hot_, sharded, spread = point["hot"], point["sharded"], point["spread"]
        print(f"{point['clients']:>9} | {hot_['calls_per_s']:>15} "
              f"{hot_['lock_waiters']['mean']:>12} | {sharded['calls_per_s']:>15} "
              f"{sharded['lock_waiters']['mean']:>12} | {spread['calls_per_s']:>16} "
              f"{spread['lock_waiters']['mean']:>12} | {point['hot_vs_spread']:>10.2f} "
              f"{point['sharded_vs_spread']:>14.2f}")


def print_report(results: dict, found: list[Target]) -> None:
    http = results["http"]
    for name in TABLES:
        if name in http:
            print_table(name, http[name])
    for name, cpu_name in CPU_OF.items():
        if name in http and cpu_name in http:
            table = http[name]
            count = max(table["by_connections"], key=int)
            print_cpu(name, http[cpu_name], table["by_connections"][count])
    print("the floor rows are the guaranteed work of GET /v1/key and GET /v1/items with raw "
          "drivers and no framework (bench/floor.py): the best ratio any implementation could "
          "reach here")
    served = http["served_sqlite"]
    print(f"the near basket ({served['near']}) answers stores {served['near_answer_stores']}")
    if results.get("hotkey"):
        print_hotkey(results["hotkey"])
    engine = results["engine"]
    if engine:
        print(f"\nEngine (app/market/basket.py + plan*.py, in-process): {engine['basket_items']} "
              f"items, {engine['stores']:,} stores, max_stores {engine['max_stores']}:")
        for family in ("seed-like", "chain-wide"):
            runs = engine[family]
            print(f"  {family:<10}: CPU median {runs['median_ms']:.1f} ms, p99 "
                  f"{runs['p99_ms']:.1f} ms, max {runs['max_ms']:.1f} ms over "
                  f"{len(runs['runs_ms'])} runs (wall p99 {runs['wall_p99_ms']:.1f} ms), "
                  f"exact {runs['exact_runs']}/{len(runs['runs_ms'])}")
    growth = results["growth"]
    if growth:
        print(f"\nBasket latency growth ({growth['method']}):")
        for size in ("small", "large"):
            row = growth[size]
            print(f"  {row['stores']:,} stores x {row['items']:>6,} items ({row['prices']:>10,} "
                  f"prices, seeded in {row['seed_seconds']:>5.1f} s): median "
                  f"{row['median_ms']:7.2f} ms, p90 {row['p90_ms']:7.2f} ms, worker RSS "
                  f"{row['worker_peak_rss_mb']} MB")
        print(f"  ratio {growth['ratio']:.2f}")
    machine = results["machine"]
    print(f"\nload average before {machine['load_average_before']}, after "
          f"{machine['load_average_after']} ({machine['cores']} cores); "
          f"{results['seconds']} s in all")

    for warning in results["warnings"]:
        print(f"\nWARNING: {warning}")

    print("\nTargets")
    for target in found:
        verdict = "PASS" if target.passed else "FAIL"
        print(f"  [{verdict}] {target.name:<80} {target.measured:<12} goal {target.goal}"
              + ("" if target.passed else "   <<< FAIL"))
        if target.note:
            print(f"         note: {target.note}")
    failed = sum(not t.passed for t in found)
    print(f"\n{len(found) - failed} of {len(found)} targets pass"
          + (f"; {failed} FAIL (see above)" if failed else ".") + f"  Results: {RESULTS}")


def save(results: dict, found: list[Target]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    document = {**results, "targets": [vars(t) for t in found]}
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
