"""Readiness is a real request, not an open port: PING, SELECT 1, metadata + coordinator,
Prometheus' ``/-/ready``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from lab.config import Endpoints
from lab.harness.aio import outside_event_loop

__all__ = [
    "Health",
    "probe",
    "probe_kafka",
    "probe_kafka_brokers",
    "probe_postgres",
    "probe_prometheus",
    "probe_redis",
]

PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Health:
    healthy: bool
    detail: str
    version: str | None = None


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "no answer within the probe timeout"
    if isinstance(error, ConnectionRefusedError) or any(
        sign in str(error) for sign in ("111", "Unable to bootstrap", "refused")
    ):
        return "connection refused"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def probe_redis(ep: Endpoints, timeout: float = PROBE_TIMEOUT_S) -> Health:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(
        ep.redis_url, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        async with asyncio.timeout(timeout):
            await client.ping()
            info = await client.info("server")
        return Health(True, "PING answered", str(info.get("redis_version")))
    except Exception as error:
        return Health(False, _reason(error))
    finally:
        await client.aclose()


async def probe_postgres(ep: Endpoints, timeout: float = PROBE_TIMEOUT_S) -> Health:
    import asyncpg

    try:
        async with asyncio.timeout(timeout):
            conn = await asyncpg.connect(ep.postgres_dsn, timeout=timeout)
            try:
                await conn.fetchval("SELECT 1")
                version = await conn.fetchval("SHOW server_version")
            finally:
                await conn.close()
        return Health(True, "SELECT 1 answered", str(version).split()[0])
    except Exception as error:
        return Health(False, _reason(error))


async def probe_kafka(ep: Endpoints, timeout: float = PROBE_TIMEOUT_S) -> Health:
    return await probe_kafka_brokers(ep.kafka_bootstrap, 1, timeout)


async def probe_kafka_brokers(
    bootstrap: str, brokers: int, timeout: float = PROBE_TIMEOUT_S
) -> Health:
    """Healthy when the metadata lists at least ``brokers`` brokers and a group
    coordinator answers."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=int(timeout * 1000),
        connections_max_idle_ms=60_000,
    )
    # aiokafka logs every failed bootstrap at ERROR; a probe expects failures.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        async with asyncio.timeout(timeout * 2):
            await admin.start()
            listed = len((await admin.describe_cluster()).get("brokers") or [])
            if listed < brokers:
                return Health(False, f"metadata lists {listed} of {brokers} broker(s)")
            await admin.find_coordinator("lab-readiness-probe")
        return Health(True, f"{listed} broker{'s' if listed > 1 else ''} and a group coordinator")
    except Exception as error:
        return Health(False, _reason(error))
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


async def probe_prometheus(ep: Endpoints, timeout: float = PROBE_TIMEOUT_S) -> Health:
    """``/-/ready`` answers 200 once Prometheus serves queries; the version from its
    build information."""
    import aiohttp

    try:
        async with (
            asyncio.timeout(timeout),
            aiohttp.ClientSession() as session,
        ):
            async with session.get(f"{ep.prometheus_url}/-/ready") as ready:
                if ready.status != 200:
                    return Health(False, f"/-/ready answered {ready.status}")
            async with session.get(f"{ep.prometheus_url}/api/v1/status/buildinfo") as info:
                version = (await info.json())["data"]["version"] if info.status == 200 else None
        return Health(True, "/-/ready answered", version)
    except Exception as error:
        return Health(False, _reason(error))


PROBES = {"redis": probe_redis, "postgres": probe_postgres, "kafka": probe_kafka,
          "prometheus": probe_prometheus}  # fmt: skip


@outside_event_loop
def probe(service: str, ep: Endpoints, timeout: float = PROBE_TIMEOUT_S) -> Health:
    """Probe one service synchronously (the CLI and the service manager use this)."""
    return asyncio.run(PROBES[service](ep, timeout))
