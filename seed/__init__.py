"""Deterministic demo data for the Store Price API (``flask --app wsgi seed``)."""
from .catalogue import seed_catalogue

__all__ = ["seed_catalogue"]
