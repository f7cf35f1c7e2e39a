"""``/openapi.json`` describes every route ``build_app`` registers, with the limits the
handlers enforce (no server: the app is built, not started)."""

from __future__ import annotations

import re

from lab.service import ServiceSettings, build_app
from lab.service.openapi import _SPACE, openapi_document


def _routes() -> set[tuple[str, str]]:
    settings = ServiceSettings("postgresql://127.0.0.1:9/x", "redis://127.0.0.1:9", "127.0.0.1:9")
    app = build_app(settings, "http://127.0.0.1:9")
    return {(route.method.lower(), route.resource.canonical)
            for route in app.router.routes() if route.method != "HEAD"}  # fmt: skip


def test_every_route_is_in_the_document_and_nothing_else() -> None:
    document = openapi_document(max_per_page=100)
    described = {(method, path) for path, item in document["paths"].items() for method in item}
    assert described == _routes()


def test_page_sizes_follow_the_setting() -> None:
    parameters = openapi_document(max_per_page=7)["paths"]["/api/users"]["get"]["parameters"]
    limit = next(p for p in parameters if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 7}


def test_the_name_rule_spells_out_what_strip_removes() -> None:
    pattern = openapi_document(100)["components"]["schemas"]["Registration"]["properties"]["name"][
        "pattern"
    ]
    as_python = re.compile(pattern.encode().decode("unicode_escape"))
    for name, valid in [("Ann", True), ("  Ann ", True), (" \x85\x1d", False),
                        ("\ufeff", True), ("a\x00", False), ("", False)]:  # fmt: skip
        assert bool(as_python.fullmatch(name)) == valid == bool(name.strip() and "\x00" not in name)
    assert all(chr(int(code, 16)).isspace() for code in _SPACE.split("\\u")[1:])
