"""The key layer's own endpoints: self-service for the calling key (account.py); for
admins, the key lifecycle (admin.py), usage reports and anomalies (reports.py), plans,
the plan review and the audit trail (plans.py)."""
