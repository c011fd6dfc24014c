"""Alembic migrations of the catalog schema, run programmatically by ``labvault.catalog.migrate``.

Each module in ``versions/`` is one revision. Revisions are never edited once released: a schema
change is a new revision that upgrades existing databases in place, keeping their rows.
"""
