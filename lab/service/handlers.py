"""The reference service's endpoints. Input is checked before anything runs: a bad id,
page, page size, cursor or body gets a 4xx with a JSON error, never a 500."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from lab.errors import BadRequest, EmailTaken
from lab.service.followers import FollowersClient
from lab.service.registrations import Registrations
from lab.service.store import UserStore

__all__ = ["Handlers", "json_error"]

Profile = Callable[[int], Awaitable[dict[str, Any] | None]]
#: ``posts(user_id, page=, per_page=)``: a page of a user's posts, newest first.
PostsPage = Callable[..., Awaitable[list[dict[str, Any]]]]
MAX_ID = 2**63 - 1


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> web.Response:  # fmt: skip
    return web.Response(body=orjson.dumps(data), status=status, headers=headers,
                        content_type="application/json")  # fmt: skip


def json_error(status: int, message: str, *, headers: dict[str, str] | None = None,
               **details: Any) -> web.Response:  # fmt: skip
    return json_response({"error": message, **details}, status, headers)


def _user_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise BadRequest(f"user id must be a positive integer, not {raw[:40]!r}")
    return int(raw)


def _int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.lstrip("-").isdigit():
        raise BadRequest(f"{name} must be an integer, not {raw[:40]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}, not {value}")
    return value


def encode_cursor(post: dict[str, Any]) -> str:
    raw = f"{post['created_at']}|{post['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, post_id = raw.partition("|")
        return datetime.fromisoformat(created), int(post_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("after is not a cursor this service gave out") from None


@dataclass
class Handlers:
    store: UserStore
    profile: Profile
    followers: FollowersClient
    registrations: Registrations
    max_per_page: int
    posts_page: PostsPage

    async def user(self, request: web.Request) -> web.Response:
        found = await self.profile(_user_id(request))
        return json_response(found) if found else json_error(404, "no such user")

    async def users(self, request: web.Request) -> web.Response:
        """``GET /api/users?limit=&after=``: users in id order, after the id ``after``;
        ``next`` is the ``after`` of the following page (null on the last)."""
        limit = _int_query(request, "limit", 20, 1, self.max_per_page)
        after = _int_query(request, "after", 0, 0, MAX_ID)
        users = await self.store.users_after(after, limit=limit)
        following = users[-1]["id"] if len(users) == limit else None
        return json_response({"users": users, "limit": limit, "after": after,
                              "next": following})  # fmt: skip

    async def _posts_page(self, request: web.Request, user_id: int) -> dict[str, Any]:
        per_page = _int_query(request, "per_page", 20, 1, self.max_per_page)
        after = request.query.get("after")
        if after is not None:
            if "page" in request.query:
                raise BadRequest("give page or after, not both")
            posts = await self.store.posts_after(user_id, decode_cursor(after), per_page=per_page)
            page: dict[str, Any] = {"after": after}
        else:
            number = _int_query(request, "page", 1, 1, 1_000_000)
            posts = await self.posts_page(user_id, page=number, per_page=per_page)
            page = {"page": number}
        following = encode_cursor(posts[-1]) if len(posts) == per_page else None
        return {"user_id": user_id, **page, "per_page": per_page, "posts": posts,
                "next": following}  # fmt: skip

    async def posts(self, request: web.Request) -> web.Response:
        user_id = _user_id(request)
        if not await self.profile(user_id):
            return json_error(404, "no such user")
        return json_response(await self._posts_page(request, user_id))

    async def summary(self, request: web.Request) -> web.Response:
        user_id = _user_id(request)
        profile, posts, followers = await asyncio.gather(
            self.profile(user_id),
            self.posts_page(user_id, page=1, per_page=5),
            self.followers.count(user_id),
        )
        if not profile:
            return json_error(404, "no such user")
        degraded = [] if followers is not None else ["followers"]
        return json_response({"user": profile, "recent_posts": posts, "followers": followers,
                              "degraded": degraded})  # fmt: skip

    async def register(self, request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            raise BadRequest("the body is not JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object with email and name")
        email, name = body.get("email"), body.get("name")
        if not isinstance(email, str) or "@" not in email or not 3 <= len(email) <= 254:
            raise BadRequest("email must be an address like someone@example.com", 422)
        if not isinstance(name, str) or len(name) > 200 or not name.strip():
            raise BadRequest("name must be 1 to 200 characters, not all spaces", 422)
        for field, text in (("email", email), ("name", name)):
            if "\x00" in text:  # PostgreSQL's text cannot hold U+0000
                raise BadRequest(f"{field} must not contain the NUL character (U+0000)", 422)
        try:
            user = await self.registrations.register(email, name.strip())
        except EmailTaken as taken:
            raise BadRequest(
                "email is registered already: see user_id", 409, user_id=taken.existing_id
            ) from None
        return json_response(user, status=201, headers={"Location": f"/api/users/{user['id']}"})


@web.middleware
async def errors_as_json(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error answer is JSON: bad input (400/422), unknown routes and methods."""
    try:
        return await handler(request)  # type: ignore[no-any-return]
    except BadRequest as error:
        return json_response({"error": str(error), **error.details}, error.status)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        allowed = error.headers.get("Allow")  # a 405 says which methods the path takes
        headers = {"Allow": allowed} if allowed else None
        return json_error(error.status, error.reason, headers=headers)
