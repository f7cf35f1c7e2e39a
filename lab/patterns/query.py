"""A SELECT builder that cannot be injected, and keyset pagination beside OFFSET.

Every identifier is validated (a plain or schema-qualified name, nothing else) and
double-quoted, every value is a ``$n`` parameter, ``IN`` is ``= ANY($n)`` with one array
parameter (one plan for every list length), joins are structured, and ``ORDER BY`` takes
column names and directions only.

::

    sql, params = build_select("posts", fields=["id", "title"],
                               where={"user_id": 7, "status": ["draft", "published"]},
                               order_by=["-created_at", "id"], limit=20)
    rows = await pool.fetch(sql, *params)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = ["Join", "build_select", "keyset_page", "quote_identifier"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_KINDS = ("INNER", "LEFT", "RIGHT", "FULL")
Direction = Literal["ASC", "DESC"]


def quote_identifier(name: str, *, max_parts: int = 3) -> str:
    """``schema.table.column`` (at most ``max_parts`` plain names) as quoted SQL; anything
    else raises ``ValueError`` before it can reach SQL."""
    if not isinstance(name, str):
        raise ValueError(f"identifier must be a string, not {type(name).__name__}")
    parts = name.split(".")
    if len(parts) > max_parts or not all(_NAME.fullmatch(part) for part in parts):
        raise ValueError(f"not a plain or schema-qualified SQL name: {name!r}")
    return ".".join(f'"{part}"' for part in parts)


@dataclass(frozen=True)
class Join:
    """``kind JOIN table ON left = right``; columns may be qualified (``users.id``)."""

    table: str
    left: str
    right: str
    kind: str = "INNER"

    def sql(self) -> str:
        kind = self.kind.upper()
        if kind not in _KINDS:
            raise ValueError(f"join kind must be one of {', '.join(_KINDS)}, not {self.kind!r}")
        return (
            f"{kind} JOIN {quote_identifier(self.table, max_parts=2)} "
            f"ON {quote_identifier(self.left)} = {quote_identifier(self.right)}"
        )


OrderBy = str | Sequence[str | tuple[str, str]]
_ORDER_FORMS = "a column, '-column' (descending), 'column DESC' or ('column', 'DESC')"


def _order_terms(order_by: OrderBy | None) -> list[tuple[str, Direction]]:
    """A list of terms, or one string of them separated by commas (``"a DESC, id"``)."""
    if isinstance(order_by, str):
        order_by = [term.strip(" ") for term in order_by.split(",")]
    return [_order_term(term) for term in order_by or ()]


def _order_term(term: str | tuple[str, str]) -> tuple[str, Direction]:
    """``"col"``, ``"-col"`` (descending), ``"col DESC"`` or ``("col", "desc")``."""
    if isinstance(term, tuple) and len(term) == 2:
        column, direction = term
    elif isinstance(term, str) and term.startswith("-"):
        column, direction = term[1:], "DESC"
    elif isinstance(term, str):
        column, _, direction = term.partition(" ")
        direction = direction.strip() or "ASC"
    else:
        raise ValueError(f"order_by term {term!r}: write {_ORDER_FORMS}")
    if not isinstance(column, str) or not all(map(_NAME.fullmatch, column.split("."))):
        raise ValueError(f"order_by term {term!r}: not a column name; write {_ORDER_FORMS}")
    direction = str(direction).upper()
    if direction not in get_args(Direction):
        raise ValueError(f"order_by term {term!r}: the direction is ASC or DESC, not "
                         f"{direction!r}; write {_ORDER_FORMS}")  # fmt: skip
    return column, direction  # type: ignore[return-value]


def _join_sql(join: Any) -> str:
    if not isinstance(join, Join):
        raise ValueError(
            f"joins take Join values, not {type(join).__name__}: Join('users', "
            "'posts.user_id', 'users.id', kind='LEFT') (an ON condition written as text "
            "cannot be checked)"
        )
    return join.sql()


class _Params:
    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _count(value: int | None, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return value


def _conditions(where: Mapping[str, Any] | None, params: _Params) -> list[str]:
    parts = []
    for column, value in (where or {}).items():
        quoted = quote_identifier(column)
        if value is None:
            parts.append(f"{quoted} IS NULL")
        elif isinstance(value, list | tuple | set | frozenset):
            parts.append(f"{quoted} = ANY({params.add(list(value))})")
        else:
            parts.append(f"{quoted} = {params.add(value)}")
    return parts


def build_select(
    table: str,
    fields: Sequence[str] | None = None,
    where: Mapping[str, Any] | None = None,
    joins: Iterable[Join] | None = None,
    order_by: OrderBy | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> tuple[str, list[Any]]:
    """``(sql, params)`` for asyncpg: equality and ``= ANY`` conditions joined by AND.
    ``order_by`` is a list of terms or one string of them (``"created_at DESC, id"``)."""
    return _select(table, fields, where, joins, order_by, limit, offset, after=None)


def keyset_page(
    table: str,
    *,
    order_by: OrderBy,
    limit: int,
    after: Sequence[Any] | None = None,
    fields: Sequence[str] | None = None,
    where: Mapping[str, Any] | None = None,
    joins: Iterable[Join] | None = None,
) -> tuple[str, list[Any]]:
    """One page in ``order_by`` order, starting after the row whose sort values are
    ``after`` (None: the first page). The sort columns must be unique together (end with
    the primary key) and share one direction, so ``(a, b) > ($1, $2)`` can use an index;
    the cost of a page does not grow with its depth, unlike ``OFFSET``."""
    terms = _order_terms(order_by)
    if len({direction for _, direction in terms}) != 1:
        raise ValueError("keyset pagination needs one direction for every sort column")
    if after is not None and len(after) != len(terms):
        raise ValueError(f"after= needs {len(terms)} values, one per sort column")
    return _select(table, fields, where, joins, terms, limit, None, after=after)


def _select(
    table: str,
    fields: Sequence[str] | None,
    where: Mapping[str, Any] | None,
    joins: Iterable[Join] | None,
    order_by: OrderBy | None,
    limit: int | None,
    offset: int | None,
    after: Sequence[Any] | None,
) -> tuple[str, list[Any]]:
    params = _Params()
    columns = ", ".join(quote_identifier(f) for f in fields) if fields else "*"
    sql = [f"SELECT {columns} FROM {quote_identifier(table, max_parts=2)}"]
    sql += [_join_sql(join) for join in joins or ()]
    conditions = _conditions(where, params)
    terms = _order_terms(order_by)
    if after is not None:
        row = ", ".join(quote_identifier(column) for column, _ in terms)
        values = ", ".join(params.add(value) for value in after)
        comparison = ">" if terms[0][1] == "ASC" else "<"
        conditions.append(f"({row}) {comparison} ({values})")
    if conditions:
        sql.append("WHERE " + " AND ".join(conditions))
    if terms:
        sql.append("ORDER BY " + ", ".join(f"{quote_identifier(c)} {d}" for c, d in terms))
    if (count := _count(limit, "limit")) is not None:
        sql.append(f"LIMIT {params.add(count)}")
    if (skip := _count(offset, "offset")) is not None:
        sql.append(f"OFFSET {params.add(skip)}")
    return " ".join(sql), params.values
