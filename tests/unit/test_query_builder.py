"""build_select and keyset_page: what SQL they write, and what they refuse."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.patterns.query import Join, build_select, keyset_page, quote_identifier


def test_the_seed_query_becomes_parameters_only() -> None:
    sql, params = build_select(
        "posts", fields=["posts.id", "users.name"], where={"user_id": 7, "status": ["a", "b"]},
        joins=[Join("users", "posts.user_id", "users.id", kind="left")],
        order_by=["-created_at", ("id", "asc")], limit=20, offset=40,
    )  # fmt: skip
    assert sql == (
        'SELECT "posts"."id", "users"."name" FROM "posts" '
        'LEFT JOIN "users" ON "posts"."user_id" = "users"."id" '
        'WHERE "user_id" = $1 AND "status" = ANY($2) '
        'ORDER BY "created_at" DESC, "id" ASC LIMIT $3 OFFSET $4'
    )
    assert params == [7, ["a", "b"], 20, 40]


def test_one_array_parameter_whatever_the_list_length() -> None:
    short, _ = build_select("t", where={"id": [1]})
    long, params = build_select("t", where={"id": list(range(1000))})
    assert short == long == 'SELECT * FROM "t" WHERE "id" = ANY($1)'
    assert params == [list(range(1000))]


def test_none_is_is_null_and_schema_names_are_allowed() -> None:
    sql, params = build_select("public.users", where={"deleted_at": None})
    assert sql == 'SELECT * FROM "public"."users" WHERE "deleted_at" IS NULL' and params == []


@pytest.mark.parametrize("hostile", [
    "users; DROP TABLE users", 'users"--', "users--", "users/*", "1users", "", "a.b.c.d",
    "users name", "users)", "ü", "a" * 64, "users'", "users\x00",
])  # fmt: skip
def test_hostile_identifiers_never_reach_sql(hostile: str) -> None:
    for call in (
        lambda: build_select(hostile),
        lambda: build_select("t", fields=[hostile]),
        lambda: build_select("t", where={hostile: 1}),
        lambda: build_select("t", order_by=[hostile]),
        lambda: build_select("t", joins=[Join(hostile, "t.a", "u.b")]),
        lambda: build_select("t", joins=[Join("u", hostile, "u.b")]),
    ):
        with pytest.raises(ValueError):
            call()


@pytest.mark.parametrize("bad", [
    {"order_by": ["id; DELETE"]}, {"order_by": [("id", "DESC; DROP")]}, {"limit": -1},
    {"limit": "10"}, {"offset": 1.5}, {"limit": True}, {"joins": [Join("u", "a", "b", "CROSS")]},
])  # fmt: skip
def test_bad_clauses_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        build_select("t", **bad)  # type: ignore[arg-type]


def test_quote_identifier_limits_parts() -> None:
    assert quote_identifier("s.t.c") == '"s"."t"."c"'
    with pytest.raises(ValueError):
        quote_identifier("s.t.c", max_parts=2)


def test_keyset_pages_compare_the_whole_sort_key() -> None:
    first, params = keyset_page("posts", order_by=["-created_at", "-id"], limit=10)
    assert first == 'SELECT * FROM "posts" ORDER BY "created_at" DESC, "id" DESC LIMIT $1'
    assert params == [10]
    nxt, params = keyset_page("posts", order_by=["created_at", "id"], limit=10,
                              after=("2024-01-01", 5), where={"user_id": 3})  # fmt: skip
    assert nxt == ('SELECT * FROM "posts" WHERE "user_id" = $1 AND ("created_at", "id") > '
                   '($2, $3) ORDER BY "created_at" ASC, "id" ASC LIMIT $4')  # fmt: skip
    assert params == [3, "2024-01-01", 5, 10]
    with pytest.raises(ValueError, match="one direction"):
        keyset_page("posts", order_by=["created_at", "-id"], limit=10)
    with pytest.raises(ValueError, match="after="):
        keyset_page("posts", order_by=["id"], limit=10, after=(1, 2))


_HOSTILE = st.text(alphabet=string.printable + "\"'`;\\\x00ü", min_size=0, max_size=30)
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62}){0,2}")


@settings(max_examples=10_000, deadline=None, database=None)
@given(identifier=_HOSTILE, value=_HOSTILE)
def test_any_text_is_refused_or_quoted_and_values_stay_parameters(identifier: str, value: str
                                                                  ) -> None:  # fmt: skip
    """10,000 generated identifiers and values, no server: a value is always ``$1``, and an
    identifier gets into SQL only when it is a plain (dotted) name, and then quoted.
    tests/integration/test_database_pool.py runs 2,000 of them against PostgreSQL."""
    sql, params = build_select("t", where={"status": value})
    assert sql == 'SELECT * FROM "t" WHERE "status" = $1' and params == [value]
    for build in (
        lambda: build_select(identifier),
        lambda: build_select("t", fields=[identifier]),
        lambda: build_select("t", where={identifier: value}),
    ):
        try:
            sql, _ = build()
        except ValueError:
            continue
        assert _PLAIN.fullmatch(identifier), identifier
        assert ".".join(f'"{part}"' for part in identifier.split(".")) in sql
