"""Apache Kafka in KRaft mode (one combined broker+controller) from its Maven Central jars.

The jars (broker, storage tool, perf tools, log4j2) are resolved once by Maven from
``kafka-pom.xml`` into ``$LAB_CACHE/kafka-<version>/libs`` and reused by every checkout.
"""

from __future__ import annotations

import base64
import os
import subprocess
import uuid
from pathlib import Path

from lab.config import Endpoints
from lab.errors import ServiceUnavailableError
from lab.harness.services.installer import ensure_binary
from lab.harness.services.process import ServerProcess

__all__ = [
    "KAFKA_VERSION",
    "cluster_id",
    "kafka_classpath",
    "kafka_java",
    "spawn_node",
    "start_kafka",
    "write_config",
]

KAFKA_VERSION = os.environ.get("LAB_KAFKA_VERSION", "4.1.1")
POM = Path(__file__).with_name("kafka-pom.xml")
HEAP = ["-Xms1g", "-Xmx1g"]
GC = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35"]
HINT = "point LAB_KAFKA_BOOTSTRAP at a running Kafka"


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "lab"
    return Path(os.environ.get("LAB_CACHE", default)) / f"kafka-{KAFKA_VERSION}"


def kafka_java() -> str:
    return ensure_binary("kafka", "java", ["openjdk-17-jre-headless"], HINT)


def kafka_classpath() -> str:
    """``<cache>/libs/*``, resolving the jars with Maven on first use."""
    libs = cache_dir() / "libs"
    done = cache_dir() / ".complete"
    if not done.exists():
        mvn = ensure_binary("kafka", "mvn", ["maven"], HINT)
        libs.mkdir(parents=True, exist_ok=True)
        resolved = subprocess.run(
            [mvn, "-B", "-q", "-f", str(POM), f"-Dkafka.version={KAFKA_VERSION}",
             "dependency:copy-dependencies", f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if resolved.returncode != 0:
            last = (resolved.stdout + resolved.stderr).strip().splitlines()[-3:]
            raise ServiceUnavailableError(
                "kafka", f"Maven could not resolve Kafka {KAFKA_VERSION}: {' '.join(last)}", HINT
            )
        done.write_text(KAFKA_VERSION + "\n")
    return f"{libs}/*"


def cluster_id(path: Path) -> str:
    """The cluster id kept in ``path``, made on first use."""
    if path.exists():
        return path.read_text().strip()
    while True:  # Kafka's own rule: URL-safe base64 of 16 bytes, never starting with '-'
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            break
    path.write_text(candidate + "\n")
    return candidate


def _single_node(folder: Path, ep: Endpoints) -> dict[str, str]:
    where = ep.kafka
    controller = f"{where.host}:{where.port + 1}"
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{controller}",
        "listeners": f"PLAINTEXT://{where},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{where}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(folder / "data"),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
    }


def write_config(folder: Path, properties: dict[str, str]) -> Path:
    """``server.properties`` and a quiet ``log4j2.properties`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "server.properties"
    config.write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
    log4j = folder / "log4j2.properties"
    log4j.write_text(
        "appender.out.type = Console\nappender.out.name = OUT\n"
        "appender.out.layout.type = PatternLayout\n"
        "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
        "rootLogger.level = WARN\nrootLogger.appenderRef.out.ref = OUT\n"
        "logger.server.name = kafka.server.KafkaRaftServer\nlogger.server.level = INFO\n"
    )
    return config


def spawn_node(
    proc: ServerProcess, config: Path, cluster: str, heap: list[str] = HEAP
) -> subprocess.Popen[bytes]:
    """Format the node's storage (once) for the cluster id ``cluster`` and start it."""
    java = kafka_java()
    classpath = kafka_classpath()
    log4j = f"-Dlog4j2.configurationFile={config.with_name('log4j2.properties')}"
    formatted = subprocess.run(
        [java, log4j, "-cp", classpath, "kafka.tools.StorageTool", "format",
         "-t", cluster, "-c", str(config), "--ignore-formatted"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if formatted.returncode != 0:
        last = (formatted.stdout + formatted.stderr).strip().splitlines()[-2:]
        raise ServiceUnavailableError("kafka", f"storage format failed: {' '.join(last)}", HINT)
    argv = [java, *heap, *GC, "-Djava.awt.headless=true", log4j,
            "-cp", classpath, "kafka.Kafka", str(config)]  # fmt: skip
    return proc.spawn(argv)


def start_kafka(proc: ServerProcess, ep: Endpoints) -> subprocess.Popen[bytes]:
    proc.folder.mkdir(parents=True, exist_ok=True)
    config = write_config(proc.folder, _single_node(proc.folder, ep))
    return spawn_node(proc, config, cluster_id(proc.folder / "cluster.id"))
