"""Schema revisions, oldest first: 0001 the initial schema, 0002 kind-scoped metric index."""
