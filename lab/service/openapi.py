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

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "minLength": 1}},
}
_TAKEN = {
    "type": "object",
    "required": ["error", "user_id"],
    "properties": {"error": {"type": "string"}, "user_id": {"type": ["integer", "null"]}},
}
_USER = {
    "type": "object",
    "required": ["id", "email", "name", "created_at"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "email": {"type": "string"},
        "name": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_POST = {
    "type": "object",
    "required": ["id", "title", "status", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "status": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
#: What ``str.strip()`` removes, spelled out: JSON Schema's ``\s`` (ECMA-262) is another set.
_SPACE = "".join(f"\\u{code:04x}" for code in range(0x3001) if chr(code).isspace())
_REGISTRATION = {
    "type": "object",
    "required": ["email", "name"],
    "properties": {
        # the handler's rules: an email has an @ and 3 to 254 characters; a name at most
        # 200, not all spaces; neither holds U+0000 (PostgreSQL's text cannot)
        "email": {
            "type": "string",
            "minLength": 3,
            "maxLength": 254,
            "pattern": "^[^\\u0000]*@[^\\u0000]*$",
        },
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "pattern": f"^[{_SPACE}]*[^{_SPACE}\\u0000][^\\u0000]*$",
        },
    },
}


def _json(schema: dict[str, Any] | str, description: str) -> dict[str, Any]:
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
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
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Registration"}
                        }
                    },
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
    nullable_int = {"type": ["integer", "null"]}
    return {
        "Error": _ERROR,
        "EmailTaken": _TAKEN,
        "User": _USER,
        "Post": _POST,
        "Registration": _REGISTRATION,
        "UsersPage": {
            "type": "object",
            "required": ["users", "limit", "after", "next"],
            "properties": {
                "users": {"type": "array", "items": _ref("User")},
                "limit": {"type": "integer"},
                "after": {"type": "integer"},
                "next": nullable_int,
            },
        },
        "PostsPage": {
            "type": "object",
            "required": ["user_id", "per_page", "posts", "next"],
            "properties": {
                "user_id": {"type": "integer"},
                "page": {"type": "integer"},
                "after": {"type": "string"},
                "per_page": {"type": "integer"},
                "posts": {"type": "array", "items": _ref("Post")},
                "next": {"type": ["string", "null"]},
            },
        },
        "Summary": {
            "type": "object",
            "required": ["user", "recent_posts", "followers", "degraded"],
            "properties": {
                "user": _ref("User"),
                "recent_posts": {"type": "array", "items": _ref("Post")},
                "followers": nullable_int,
                "degraded": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Health": {
            "type": "object",
            "required": ["status", "checks"],
            "properties": {
                "status": {"enum": ["ok", "failing"]},
                "checks": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def openapi_document(max_per_page: int) -> dict[str, Any]:
    """The document for a service whose pages hold at most ``max_per_page`` items."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "lab serve: the reference service", "version": "1"},
        "paths": _paths(max_per_page),
        "components": {"schemas": _schemas()},
    }
