"""``GET /openapi.json``: the reference service described in OpenAPI 3.1.

Every route, parameter, body and answer, with the limits the handlers enforce (ids, page
sizes, email and name lengths), the JSON error every 4xx and 503 carries, and links from a
registration to the routes that read the new user (schemathesis' stateful phase follows
them). ``make test`` fuzzes a live ``lab serve`` against this document.
"""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

MAX_ID = 2**63 - 1


def _object(*, optional: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    """A JSON object schema: every property required unless named in ``optional``."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_NULLABLE_INT = {"type": ["integer", "null"]}
_WHEN = {"type": "string", "format": "date-time"}
_ERROR = _object(error={"type": "string", "minLength": 1})
_TAKEN = _object(error=_STRING, user_id=_NULLABLE_INT)
_USER = _object(id={"type": "integer", "minimum": 1}, email=_STRING, name=_STRING,
                created_at=_WHEN)  # fmt: skip
_POST = _object(id=_INTEGER, title=_STRING, status=_STRING, created_at=_WHEN)
#: What ``str.strip()`` removes, spelled out: JSON Schema's ``\s`` (ECMA-262) is another set.
_SPACE = "".join(f"\\u{code:04x}" for code in range(0x3001) if chr(code).isspace())
# the handler's rules: an email has an @ and 3 to 254 characters; a name at most 200, not
# all spaces; neither holds U+0000 (PostgreSQL's text cannot)
_REGISTRATION = _object(
    email={"type": "string", "minLength": 3, "maxLength": 254,
           "pattern": "^[^\\u0000]*@[^\\u0000]*$"},
    name={"type": "string", "minLength": 1, "maxLength": 200,
          "pattern": f"^[{_SPACE}]*[^{_SPACE}\\u0000][^\\u0000]*$"},
)  # fmt: skip


def _json(schema: dict[str, Any] | str, description: str) -> dict[str, Any]:
    if isinstance(schema, str):
        schema = _ref(schema)
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json("Error", description)


def _integer(name: str, where: str, low: int, high: int, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": {"type": "integer", "minimum": low, "maximum": high},
    }


_USER_ID = _integer("id", "path", 1, MAX_ID, "the user's id")
_BAD = {"400": _error("a parameter out of its range or not a number")}
_SHED = {"503": _error("shed by the adaptive limiter under overload; retry later")}
_BY_ID = {"404": _error("no user has this id"), **_BAD, **_SHED}


_READ_USER = {
    name: {"operationId": operation, "parameters": {"id": "$response.body#/id"}}
    for name, operation in (
        ("GetUser", "getUser"),
        ("GetUserPosts", "getUserPosts"),
        ("GetUserSummary", "getUserSummary"),
    )
}


def _paths(max_per_page: int) -> dict[str, Any]:
    per_page = _integer("per_page", "query", 1, max_per_page, "posts per page")
    return {
        "/api/users": {
            "get": {
                "operationId": "listUsers",
                "summary": "A keyset page of users in id order",
                "parameters": [
                    _integer("limit", "query", 1, max_per_page, "users per page"),
                    _integer("after", "query", 0, MAX_ID, "the id the page starts after"),
                ],
                "responses": {"200": _json("UsersPage", "the page"), **_BAD, **_SHED},
            },
            "post": {
                "operationId": "registerUser",
                "summary": "Register a user (its user.registered event goes to Kafka)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("Registration")}},
                },
                "responses": {
                    "201": {
                        **_json("User", "registered"),
                        "headers": {
                            "Location": {
                                "description": "the new user's path",
                                "schema": {"type": "string"},
                            }
                        },
                        "links": _READ_USER,
                    },
                    "400": _error("the body is not a JSON object"),
                    "409": _json("EmailTaken", "the email (in any case) is taken"),
                    "422": _error("email or name breaks a rule the message names"),
                    **_SHED,
                },
            },
        },
        "/api/users/{id}": {
            "get": {
                "operationId": "getUser",
                "summary": "A user's profile (cached)",
                "parameters": [_USER_ID],
                "responses": {"200": _json("User", "the profile"), **_BY_ID},
            }
        },
        "/api/users/{id}/posts": {
            "get": {
                "operationId": "getUserPosts",
                "summary": "A user's posts, newest first, by page number or keyset cursor",
                "parameters": [
                    _USER_ID,
                    per_page,
                    _integer("page", "query", 1, 1_000_000, "page number (not with after)"),
                    {
                        "name": "after",
                        "in": "query",
                        "required": False,
                        "description": "the next cursor of the previous page (not with page); "
                        "any other text is a 400",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {"200": _json("PostsPage", "the page"), **_BY_ID},
            }
        },
        "/api/users/{id}/summary": {
            "get": {
                "operationId": "getUserSummary",
                "summary": "Profile, recent posts and follower count (null when degraded)",
                "parameters": [_USER_ID],
                "responses": {"200": _json("Summary", "the summary"), **_BY_ID},
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "PostgreSQL and Redis reachable",
                "responses": {"200": _json("Health", "healthy"), "503": _json("Health", "failing")},
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus exposition (text or OpenMetrics)",
                "responses": {
                    "200": {
                        "description": "the metrics",
                        "content": {
                            "text/plain": {"schema": {"type": "string"}},
                            "application/openmetrics-text": {"schema": {"type": "string"}},
                        },
                    }
                },
            }
        },
        "/api/_stats": {
            "get": {
                "operationId": "stats",
                "summary": "The counters that show which pattern worked",
                "responses": {"200": _json({"type": "object"}, "the counters")},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": _json({"type": "object"}, "the document")},
            }
        },
    }


def _schemas() -> dict[str, Any]:
    return {
        "Error": _ERROR,
        "EmailTaken": _TAKEN,
        "User": _USER,
        "Post": _POST,
        "Registration": _REGISTRATION,
        "UsersPage": _object(
            users=_array("User"), limit=_INTEGER, after=_INTEGER, next=_NULLABLE_INT
        ),
        "PostsPage": _object(
            user_id=_INTEGER,
            page=_INTEGER,
            after=_STRING,
            per_page=_INTEGER,
            posts=_array("Post"),
            next={"type": ["string", "null"]},
            optional=("page", "after"),
        ),
        "Summary": _object(
            user=_ref("User"),
            recent_posts=_array("Post"),
            followers=_NULLABLE_INT,
            degraded={"type": "array", "items": _STRING},
        ),
        "Health": _object(
            status={"enum": ["ok", "failing"]},
            checks={"type": "object", "additionalProperties": _STRING},
        ),
    }


def openapi_document(max_per_page: int) -> dict[str, Any]:
    """The document for a service whose pages hold at most ``max_per_page`` items."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "lab serve: the reference service", "version": "1"},
        "paths": _paths(max_per_page),
        "components": {"schemas": _schemas()},
    }
