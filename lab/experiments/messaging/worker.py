"""A ``KafkaBatchProcessor`` in a process of its own, so a test or an experiment can kill
it (SIGKILL) mid-stream and start it again.

``python -m lab.experiments.messaging.worker --topic T --group G --out handled.log``
appends one line per handled message (``partition offset key unix-time``) to ``--out``,
written with
``O_APPEND`` before the handler returns, so a line on disk means "handled" even if the
process dies right after. It prints ``ready`` once consuming, and stops cleanly on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from lab.patterns.messaging import KafkaBatchProcessor, Message, RetryPolicy

__all__ = ["main", "start_worker"]


async def _serve(args: argparse.Namespace) -> None:
    out = os.open(args.out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    rng = random.Random()

    async def handle(message: Message) -> None:
        if args.slow_ms:
            await asyncio.sleep(rng.uniform(0, args.slow_ms / 1000))
        if isinstance(message.value, dict) and message.value.get("fail"):
            raise ValueError(f"message {message.offset} asks to fail")
        key = (message.key or b"-").decode()
        os.write(out, f"{message.partition} {message.offset} {key} {time.time():.6f}\n".encode())

    processor = KafkaBatchProcessor(
        args.bootstrap,
        [args.topic],
        args.group,
        handle,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        max_buffered=args.batch_size,
        commit_interval_s=args.commit_interval_s,
        shutdown_deadline_s=5.0,
        retry=RetryPolicy(max_attempts=2, backoff_s=0.01),
        value_format=args.value_format,
        consumer_options={"group_instance_id": args.instance_id} if args.instance_id else None,
    )
    print("ready", flush=True)
    try:
        await processor.run(handle_signals=True)
    finally:
        os.close(out)


def start_worker(
    bootstrap: str,
    topic: str,
    group: str,
    out: Path,
    *,
    concurrency: int = 8,
    batch_size: int = 500,
    commit_interval_s: float = 0.2,
    slow_ms: float = 0.0,
    value_format: str = "json",
    instance_id: str = "",
) -> subprocess.Popen[str]:
    """Start a worker process and wait for its ``ready`` line; its stderr goes to
    ``<out>.stderr`` (a pipe nobody reads could fill and stall it). Stop it with a signal,
    then ``communicate()``. ``instance_id``: a static group member (KIP-345), which a
    restart with the same id takes over at once instead of waiting out its session."""
    argv = [
        sys.executable,
        "-m",
        "lab.experiments.messaging.worker",
        "--bootstrap",
        bootstrap,
        "--topic",
        topic,
        "--group",
        group,
        "--out",
        str(out),
        "--concurrency",
        str(concurrency),
        "--batch-size",
        str(batch_size),
        "--commit-interval-s",
        str(commit_interval_s),
        "--slow-ms",
        str(slow_ms),
        "--value-format",
        value_format,
        "--instance-id",
        instance_id,
    ]
    errors = out.with_name(out.name + ".stderr")
    with errors.open("a") as stderr:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        process.communicate()
        raise RuntimeError(f"the messaging worker did not start: {errors.read_text()[-500:]}")
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--commit-interval-s", type=float, default=0.2)
    parser.add_argument("--slow-ms", type=float, default=0.0)
    parser.add_argument("--value-format", choices=["json", "bytes"], default="json")
    parser.add_argument("--instance-id", default="", help="static group membership")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(_serve(args))
    except ImportError:
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
