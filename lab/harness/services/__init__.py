"""Redis, PostgreSQL and Kafka: found, started natively (or with Docker), probed, stopped."""

from lab.harness.services.manager import SERVICES, ServiceStatus, down, parse_only, status, up
from lab.harness.services.probes import Health, probe

__all__ = ["SERVICES", "Health", "ServiceStatus", "down", "parse_only", "probe", "status", "up"]
