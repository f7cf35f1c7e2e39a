"""The lab's own schemathesis check (loaded through ``SCHEMATHESIS_HOOKS``): every 4xx and
5xx of the reference service is a JSON object whose ``error`` says what went wrong."""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.check
def errors_are_json(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"a {response.status_code} whose body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("error"), str) or not body["error"]:
        raise AssertionError(f"a {response.status_code} without an 'error' sentence: {body!r}")
    return None
