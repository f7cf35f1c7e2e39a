"""Finding server binaries, and installing Debian's packages when we run as root."""

from __future__ import annotations

import os
import shutil
import subprocess

from lab.errors import ServiceUnavailableError

__all__ = ["ensure_binary"]

_updated = False


def _apt_get(*args: str) -> bool:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    done = subprocess.run(
        ["apt-get", "-q", "-y", *args], env=env, capture_output=True, text=True, check=False
    )
    return done.returncode == 0


def ensure_binary(service: str, binary: str, packages: list[str], hint: str) -> str:
    """The path of ``binary``; install ``packages`` with apt-get first if root and missing."""
    found = shutil.which(binary)
    if found:
        return found
    global _updated
    if os.geteuid() == 0 and shutil.which("apt-get"):
        if not _apt_get("install", "--no-install-recommends", *packages) and not _updated:
            _updated = _apt_get("update")
            _apt_get("install", "--no-install-recommends", *packages)
        found = shutil.which(binary)
        if found:
            return found
        detail = f"`{binary}` is missing and `apt-get install {' '.join(packages)}` failed"
    else:
        detail = f"`{binary}` is not installed"
    raise ServiceUnavailableError(
        service, detail, f"install {' '.join(packages)} (Debian) or {hint}"
    )
