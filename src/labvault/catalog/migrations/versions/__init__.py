"""Schema revisions, oldest first: 0001 the initial schema, 0002 kind-scoped metric index, 0003 what
capture records (versions.meta, splits, params.kind), 0004 the lab's state (units, placements, access
log, usage history, move journal)."""
