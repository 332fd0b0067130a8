"""The key layer's own endpoints: self-service for the calling key (account.py) and the
key lifecycle and reports for admins (admin.py)."""
