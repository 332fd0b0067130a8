"""The marketplace endpoints: catalogue reads, catalogue writes and the cheapest-stores
query. Each view declares its scope with ``@requires`` (app/keys/scope.py)."""
