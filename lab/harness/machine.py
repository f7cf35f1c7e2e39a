"""Facts about the machine and software a run was measured on, for ``meta.json``."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any

import psutil

__all__ = ["machine_facts"]

PACKAGES = (
    "perflab", "redis", "hiredis", "asyncpg", "aiohttp", "aiokafka", "pandas",
    "hdrhistogram", "uvloop",
)  # fmt: skip


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_facts() -> dict[str, Any]:
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "packages": {name: _version(name) for name in PACKAGES if _version(name)},
    }
