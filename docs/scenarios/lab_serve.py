"""A scenario for `lab loadtest --scenario`: the reference service's traffic (`lab serve`).

    lab loadtest http://127.0.0.1:8000/ --rate 200 --duration 30s \\
        --scenario docs/scenarios/lab_serve.py --users 50

Each virtual user reads profiles (60 %), pages through a user's posts (20 %), reads
summaries (15 %) and registers (5 %). A user paging through posts carries the cursor
from the last page it was given (`next` in the answer) into its next request, so the
service meets keyset pagination as a real client drives it; those pages are reported
as "posts (next page)". The ids are Zipf-skewed over the dataset's users, as real
traffic is: set LAB_SERVE_USERS to the service's `--users` when it is not 10,000.
"""

from __future__ import annotations

import itertools
import os
import secrets
from urllib.parse import quote

import orjson

from lab.harness.loadgen.scenario import Request, VirtualUser

USERS = int(os.environ.get("LAB_SERVE_USERS", "10000"))  # lab serve --users
PER_PAGE = 10
#: A registration is new in every run: the users' seeded draws repeat from run to run,
#: and the service keeps whom it registered (a second run's emails were all taken: 409).
RUN = secrets.token_hex(4)
_CUMULATIVE = list(itertools.accumulate(1 / k for k in range(1, USERS + 1)))


def _someone(user: VirtualUser) -> int:
    return user.rng.choices(range(1, USERS + 1), cum_weights=_CUMULATIVE)[0]


def next_request(user: VirtualUser) -> Request:
    last = user.last
    if last is not None and last.name.startswith("posts") and last.status == 200:
        following = last.json().get("next")
        if following:  # go on with the user whose posts were being read
            return Request(
                f"/api/users/{user.state['reading']}/posts?per_page={PER_PAGE}"
                f"&after={quote(following)}",
                name="posts (next page)",
            )
    draw = user.rng.random()
    if draw < 0.60:
        return Request(f"/api/users/{_someone(user)}", name="profile")
    if draw < 0.80:
        user.state["reading"] = _someone(user)
        return Request(f"/api/users/{user.state['reading']}/posts?per_page={PER_PAGE}",
                       name="posts")  # fmt: skip
    if draw < 0.95:
        return Request(f"/api/users/{_someone(user)}/summary", name="summary")
    user.state["registered"] = user.state.get("registered", 0) + 1
    email = f"vu{user.id}-{user.state['registered']}-{RUN}@example.com"
    body = orjson.dumps({"email": email, "name": f"Virtual user {user.id}"})
    return Request("/api/users", method="POST", name="register",
                   headers={"Content-Type": "application/json"}, body=body)  # fmt: skip
