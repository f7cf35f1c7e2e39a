"""PostgreSQL from Debian's packages, in a cluster of its own under the lab's home folder.

As root the cluster is owned by and run as the ``postgres`` user (PostgreSQL refuses root).
The superuser is the DSN's user, with trust authentication on loopback only.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import subprocess
import tempfile
from pathlib import Path

from lab.config import Endpoints
from lab.errors import ServiceUnavailableError
from lab.harness.services.installer import ensure_binary
from lab.harness.services.process import ServerProcess, log_tail

__all__ = ["create_database", "postgres_bin_dir", "start_postgres"]

RUN_AS = "postgres"


def postgres_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/N/bin`` (installing PostgreSQL if root and missing)."""

    def newest() -> Path | None:
        found = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/postgres"),
            key=lambda p: int(re.sub(r"\D", "", p.parent.parent.name) or 0),
        )
        return found[-1].parent if found else None

    bin_dir = newest()
    if bin_dir is None:
        ensure_binary(
            "postgres", "pgbench", ["postgresql", "postgresql-contrib"],
            "point LAB_POSTGRES_DSN at a running PostgreSQL",
        )  # fmt: skip
        bin_dir = newest()
    if bin_dir is None:
        raise ServiceUnavailableError(
            "postgres", "no server binaries under /usr/lib/postgresql",
            "install postgresql (Debian) or point LAB_POSTGRES_DSN at a running PostgreSQL",
        )  # fmt: skip
    return bin_dir


def _run_user() -> str | None:
    return RUN_AS if os.geteuid() == 0 else None


def _give_to(path: Path, user: str | None) -> None:
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for folder in [path, *path.rglob("*")]:
        os.chown(folder, entry.pw_uid, entry.pw_gid)


def _reachable_by(user: str | None, path: Path) -> bool:
    if user is None:
        return True
    check = subprocess.run(["test", "-w", str(path)], user=user, check=False)
    return check.returncode == 0


def _cluster_folder(proc: ServerProcess, user: str | None) -> Path:
    """``.lab/postgres`` when the server's user can write there, else a folder in /tmp.

    A checkout under a folder closed to other users (mode 0700) cannot hold a cluster
    that the ``postgres`` user runs; the cluster then lives in /tmp, named for this home.
    """
    proc.folder.mkdir(parents=True, exist_ok=True)
    _give_to(proc.folder, user)
    if _reachable_by(user, proc.folder):
        return proc.folder
    digest = hashlib.sha1(str(proc.folder).encode()).hexdigest()[:10]
    outside = Path(tempfile.gettempdir()) / f"lab-postgres-{digest}"
    outside.mkdir(mode=0o700, exist_ok=True)
    _give_to(outside, user)
    (proc.folder / "cluster-location").write_text(f"{outside}\n")
    if not _reachable_by(user, outside):
        raise ServiceUnavailableError(
            "postgres",
            f"the {user} user can write neither to {proc.folder} nor to {outside}",
            "set LAB_HOME to a folder every user can enter, such as /tmp/lab",
        )
    return outside


def start_postgres(proc: ServerProcess, ep: Endpoints) -> subprocess.Popen[bytes]:
    bin_dir = postgres_bin_dir()
    user = _run_user()
    cluster = _cluster_folder(proc, user)
    data = cluster / "data"
    sockets = cluster / "sockets"
    sockets.mkdir(exist_ok=True)
    _give_to(sockets, user)
    if not (data / "PG_VERSION").exists():
        init = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", ep.postgres_user,
             "--auth=trust", "--encoding=UTF8", "--no-sync"],
            user=user, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if init.returncode != 0:
            tail = (init.stderr or init.stdout).strip().splitlines()[-1:]
            raise ServiceUnavailableError("postgres", f"initdb failed: {' '.join(tail)}")
    where = ep.postgres
    argv = [
        str(bin_dir / "postgres"), "-D", str(data),
        "-c", f"listen_addresses={where.host}",
        "-p", str(where.port),
        "-c", f"unix_socket_directories={sockets}",
        "-c", "max_connections=200",
        "-c", "shared_buffers=256MB",
    ]  # fmt: skip
    return proc.spawn(argv, user=user)


def create_database(proc: ServerProcess, ep: Endpoints) -> None:
    """Create the DSN's database if the fresh cluster lacks it."""
    bin_dir = postgres_bin_dir()
    where = ep.postgres
    name = ep.postgres_database
    created = subprocess.run(
        [str(bin_dir / "createdb"), "-h", where.host, "-p", str(where.port),
         "-U", ep.postgres_user, "--", name],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if created.returncode != 0 and "already exists" not in created.stderr:
        raise ServiceUnavailableError(
            "postgres",
            f"createdb {name} failed: {created.stderr.strip()}\n{log_tail(proc.log_file)}",
        )
