"""Row triggers written once for both databases: a plpgsql function and its trigger on
PostgreSQL, a trigger with its statements inline on SQLite (``lab_totals``, ``heads``)."""

from __future__ import annotations

from collections.abc import Iterable


def create_sql(dialect: str, name: str, when: str, table: str, cond: str, body: list[str]) -> list[str]:
    """DDL for trigger ``name`` running ``body`` (SQL statements) ``when`` (``AFTER INSERT``,
    ``BEFORE DELETE``, ...) on each row of ``table`` for which ``cond`` holds (``""``: every row)."""
    only = f" WHEN ({cond})" if cond else ""
    if dialect == "postgresql":
        ret = "OLD" if when.startswith("BEFORE") else "NULL"
        return [f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                + "".join(f"{s}; " for s in body) + f"RETURN {ret}; END $$",
                f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW{only} EXECUTE FUNCTION {name}()"]
    return [f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW{only} BEGIN "
            + "".join(f"{s}; " for s in body) + "END"]


def drop_sql(dialect: str, names: Iterable[tuple[str, str]]) -> list[str]:
    """DDL dropping the triggers ``(name, table)`` (and their functions), when they exist."""
    out = []
    for name, table in names:
        if dialect == "postgresql":
            out += [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
        else:
            out.append(f"DROP TRIGGER IF EXISTS {name}")
    return out
