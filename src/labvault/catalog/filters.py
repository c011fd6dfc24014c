"""The search language, parsed into a tree and compiled to SQL expressions (never string-formatted).

::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | "(" expr ")" | compare
    compare := FIELD OP VALUE
    OP      := "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "~" (glob: * and ?) | "!~"
    VALUE   := number | date (2026-01-01, 2026-01-01T12:00) | 'quoted' | "quoted" | bare word

Fields: ``name version path hash description architecture framework status stage git_rev`` (text),
``size files samples`` (numbers), ``created started ended`` (dates), ``tag`` (a tag or an alias),
``alias``, ``metrics.KEY`` (numbers), ``params.KEY`` (numbers or text).

Example: ``metrics.accuracy > 0.9 and (tag = production or name ~ 'sent*') and created > 2026-01-01``
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from labvault.catalog.glob_match import GlobMatch
from labvault.catalog.schema import aliases, entities, metrics, params, tags, versions
from labvault.errors import CatalogError

TEXT_FIELDS = {
    "name": entities.c.name, "version": versions.c.version, "path": versions.c.path,
    "hash": versions.c.content_hash, "description": versions.c.description,
    "architecture": versions.c.architecture, "framework": versions.c.framework, "status": versions.c.status,
    "stage": versions.c.stage, "git_rev": versions.c.git_rev,
}
NUMBER_FIELDS = {"size": versions.c.size, "files": versions.c.nfiles, "nfiles": versions.c.nfiles,
                 "samples": versions.c.nsamples, "nsamples": versions.c.nsamples}
DATE_FIELDS = {"created": versions.c.created_at, "started": versions.c.started_at, "ended": versions.c.ended_at}
OPS = ("==", "!=", "<=", ">=", "!~", "=", "<", ">", "~")
KEYWORDS = ("and", "or", "not")

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<op>==|!=|<=|>=|!~|=|<|>|~)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<date>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)(?![\w.])
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])
  | (?P<word>[A-Za-z0-9_*?][A-Za-z0-9_.\-/:*?+]*)
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int
    value: Any = None


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Any
    value_kind: str  # number | date | text
    pos: int


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


Node = Compare | BoolOp | Not


def _error(expr: str, pos: int, what: str) -> CatalogError:
    near = expr[pos:pos + 20] or "end of expression"
    return CatalogError(
        f"malformed filter expression at position {pos + 1}: {what} (near {near!r})",
        f"in {expr!r}; example: metrics.accuracy > 0.9 and tag = production",
    )


def tokenize(expr: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            raise _error(expr, pos, f"unexpected character {expr[pos]!r}")
        kind = m.lastgroup or ""
        text = m.group()
        if kind == "string":
            out.append(Token("value", text, pos, (text[1:-1], "text")))
        elif kind == "number":
            out.append(Token("value", text, pos, (float(text), "number")))
        elif kind == "date":
            out.append(Token("value", text, pos, (datetime.fromisoformat(text.replace(" ", "T")), "date")))
        elif kind == "word" and text.lower() in KEYWORDS:
            out.append(Token(text.lower(), text, pos))
        elif kind == "word":
            out.append(Token("word", text, pos, (text, "text")))
        elif kind != "ws":
            out.append(Token(kind, text, pos))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = tokenize(expr)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def fail(self, what: str) -> CatalogError:
        tok = self.peek()
        return _error(self.expr, tok.pos if tok else len(self.expr), what)

    def take(self) -> Token:
        tok = self.peek()
        assert tok is not None
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.tokens:
            raise self.fail("the expression is empty")
        node = self.or_()
        if self.peek() is not None:
            raise self.fail("expected 'and', 'or' or the end")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            node = BoolOp("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while (tok := self.peek()) is not None and tok.kind == "and":
            self.take()
            node = BoolOp("and", node, self.not_())
        return node

    def not_(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.fail("expected a condition such as metrics.accuracy > 0.9")
        if tok.kind == "not":
            self.take()
            return Not(self.not_())
        if tok.kind == "lparen":
            self.take()
            node = self.or_()
            close = self.peek()
            if close is None or close.kind != "rparen":
                raise self.fail("expected ')'")
            self.take()
            return node
        return self.compare()

    def compare(self) -> Node:
        tok = self.peek()
        if tok is None or tok.kind != "word":
            raise self.fail("expected a field name (name, tag, metrics.KEY, params.KEY, created, ...)")
        field_tok = self.take()
        _check_field(self.expr, field_tok)
        op = self.peek()
        if op is None or op.kind != "op":
            raise self.fail(f"expected an operator ({' '.join(OPS)}) after {field_tok.text!r}")
        self.take()
        value = self.peek()
        if value is None or value.kind not in ("value", "word"):
            raise self.fail(f"expected a value after {op.text!r}")
        self.take()
        raw, vkind = value.value
        node = Compare(field_tok.text, "=" if op.text == "==" else op.text, raw, vkind, field_tok.pos)
        _check_compare(self.expr, node, value.pos)
        return node


def _check_field(expr: str, tok: Token) -> None:
    name = tok.text
    if name in TEXT_FIELDS or name in NUMBER_FIELDS or name in DATE_FIELDS or name in ("tag", "alias"):
        return
    head, dot, key = name.partition(".")
    if head in ("metrics", "params") and dot and key:
        return
    raise _error(expr, tok.pos, f"unknown field {name!r}")


def _check_compare(expr: str, node: Compare, value_pos: int) -> None:
    f, op, vkind = node.field, node.op, node.value_kind
    numeric = f in NUMBER_FIELDS or f.startswith("metrics.")
    if op in ("~", "!~") and (numeric or f in DATE_FIELDS):
        raise _error(expr, node.pos, f"'~' matches text patterns; {f} is not text")
    if numeric and vkind != "number":
        raise _error(expr, value_pos, f"{f} needs a number")
    if f in DATE_FIELDS and vkind != "date":
        raise _error(expr, value_pos, f"{f} needs a date such as 2026-01-01")
    if (f in TEXT_FIELDS or f in ("tag", "alias")) and op in ("<", "<=", ">", ">=") and f != "version":
        raise _error(expr, node.pos, f"{f} is text: use =, != or ~")


def parse(expr: str) -> Node:
    return _Parser(expr).parse()


def _text_cond(column: Any, op: str, value: str) -> Any:
    if op in ("~", "!~"):
        cond = GlobMatch(column, value)  # case-sensitive on every backend
        return sa.not_(cond) if op == "!~" else cond
    return _cmp(column, op, value)


def _cmp(column: Any, op: str, value: Any) -> Any:
    return {
        "=": lambda: column == value, "!=": lambda: column != value, "<": lambda: column < value,
        "<=": lambda: column <= value, ">": lambda: column > value, ">=": lambda: column >= value,
    }[op]()


def _text(value: Any) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


Part = tuple[sa.Table, Any]  # (table with a version_id column, condition on its rows)


def id_parts(node: Node, vkind: str) -> list[Part] | None:
    """For a condition met by the versions some index rows name (``metrics.KEY``, ``params.KEY``,
    a tag or an alias that is present), those rows: ``versions.id`` must be among their
    ``version_id`` (any part). None for conditions on the version itself, and for negations."""
    if not isinstance(node, Compare):
        return None
    f, op, value = node.field, node.op, node.value
    if f.startswith("metrics."):
        key = f.split(".", 1)[1]
        return [(metrics, sa.and_(metrics.c.kind == vkind, metrics.c.key == key, _cmp(metrics.c.value, op, value)))]
    if f.startswith("params."):
        key = f.split(".", 1)[1]
        cond: Any
        if node.value_kind == "number" and op not in ("~", "!~"):
            cond = _cmp(params.c.value_num, op, value)
        else:
            cond = _text_cond(params.c.value_text, "=" if op == "!=" else op, _text(value))
            if op == "!=":
                cond = sa.not_(cond)
        return [(params, sa.and_(params.c.kind == vkind, params.c.key == key, cond))]
    if f in ("tag", "alias") and op not in ("!=", "!~"):
        parts: list[Part] = [(aliases, _text_cond(aliases.c.alias, op, _text(value)))]
        if f == "tag":
            parts.insert(0, (tags, _text_cond(tags.c.tag, op, _text(value))))
        return parts
    return None


def ids_in(parts: list[Part]) -> Any:
    """``versions.id`` among the parts' rows: IN (subquery), which the database can read first."""
    found = [versions.c.id.in_(sa.select(t.c.version_id).where(cond)) for t, cond in parts]
    return found[0] if len(found) == 1 else sa.or_(*found)


def ids_in_one(parts: list[Part]) -> Any:
    """``versions.id IN (one subquery)``, a union for several parts: a set a database can start
    from (PostgreSQL cannot start from an ``or`` of two IN lists)."""
    selects = [sa.select(t.c.version_id).where(cond) for t, cond in parts]
    return versions.c.id.in_(selects[0] if len(selects) == 1 else sa.union(*selects))


def probe(parts: list[Part], fence: bool = False) -> Any:
    """The same condition checked for one version at a time (a primary-key lookup per part).

    ``fence`` adds ``OFFSET 0``, which keeps PostgreSQL from turning the ``EXISTS`` into a join
    it would plan on its own (and then often read the whole range of a common value)."""
    found = []
    for t, cond in parts:
        sub = sa.select(sa.literal(1)).select_from(t).where(t.c.version_id == versions.c.id, cond)
        found.append(sa.exists(sub.offset(0) if fence else sub))
    return found[0] if len(found) == 1 else sa.or_(*found)


def _compile(node: Node, vkind: str) -> Any:
    if isinstance(node, BoolOp):
        parts = (_compile(node.left, vkind), _compile(node.right, vkind))
        return sa.and_(*parts) if node.op == "and" else sa.or_(*parts)
    if isinstance(node, Not):
        return sa.not_(_compile(node.operand, vkind))
    found = id_parts(node, vkind)
    if found is not None:
        return ids_in(found)
    f, op, value = node.field, node.op, node.value
    if f in ("tag", "alias"):
        return sa.not_(ids_in(id_parts(Compare(f, {"!=": "=", "!~": "~"}[op], value, node.value_kind, node.pos),
                                       vkind) or []))
    if f in NUMBER_FIELDS:
        return _cmp(NUMBER_FIELDS[f], op, value)
    if f in DATE_FIELDS:
        when = value if value.tzinfo is None else value.astimezone(timezone.utc).replace(tzinfo=None)
        return _cmp(DATE_FIELDS[f], op, when)
    return _text_cond(TEXT_FIELDS[f], op, _text(value))


def conjuncts(node: Node) -> list[Node]:
    """The conditions of a top-level ``and`` (one condition otherwise)."""
    if isinstance(node, BoolOp) and node.op == "and":
        return conjuncts(node.left) + conjuncts(node.right)
    return [node]


def compile_node(node: Node, vkind: str) -> Any:
    return _compile(node, vkind)


def compile_filter(expr: str, vkind: str) -> Any:
    """A SQLAlchemy boolean expression over ``versions`` (of kind ``vkind``) joined with ``entities``."""
    return _compile(parse(expr), vkind)
