"""``make bench``: how fast is the API-key pipeline, compared with a bare Flask route?

Run it with ``python -m bench`` (see bench/README.md). Modules, in the order they run:

- ``catalogue``  seeds throw-away SQLite databases and issues a bench key (via the admin CLI)
- ``servers``    starts and stops gunicorn, reads its workers' peak memory
- ``loadgen``    drives a server with wrk, or a pure-Python fallback
- ``throughput`` bare route vs the app's keyed endpoints under identical load
- ``engine``     times the pure basket engine (app/market/basket.py) with no HTTP at all
- ``growth``     basket latency on a small versus a large catalogue
- ``report``     the table, the targets with PASS/FAIL, bench/results/latest.json
"""
