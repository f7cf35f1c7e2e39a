"""Static assets: fingerprints, compression, WebP/AVIF and lazy loading in Chromium."""

from __future__ import annotations

from lab.experiments.experiment import Experiment, headline

__all__ = ["EXPERIMENT"]

EXPERIMENT = Experiment(
    name="cdn",
    title="Static assets: fingerprints, compression, WebP/AVIF and lazy loading in Chromium",
    question="What does each optimization save a real browser on a first and a repeat visit, "
    "throttled and not: bytes, requests, load event and Largest Contentful Paint? "
    "How many bytes does each image format and text encoding save, and how fast is "
    "the lab's static handler against aiohttp's own?",
    services=(),
    reading="Bytes and requests come from Chromium's own network events, per variant, on a "
    "first and a repeat visit. Each optimization alone is compared with the "
    "unoptimized page; throttled to 10 Mbit/s, the load event and the Largest "
    "Contentful Paint show what the bytes cost a visitor.",
    headlines=(
        headline(
            "first visit, unoptimized page (bytes)",
            "The demo page",
            "bytes",
            profile="10 Mbit/s, 40 ms",
            variant="none",
            visit="first",
        ),
        headline(
            "first visit, every optimization on (bytes)",
            "The demo page",
            "bytes",
            profile="10 Mbit/s, 40 ms",
            variant="all",
            visit="first",
        ),
        headline(
            "repeat visit, every optimization on (bytes)",
            "The demo page",
            "bytes",
            profile="10 Mbit/s, 40 ms",
            variant="all",
            visit="repeat",
        ),
        headline(
            "load event, unoptimized, 10 Mbit/s (ms)",
            "The demo page",
            "load_ms",
            profile="10 Mbit/s, 40 ms",
            variant="none",
            visit="first",
        ),
        headline(
            "load event, optimized, 10 Mbit/s (ms)",
            "The demo page",
            "load_ms",
            profile="10 Mbit/s, 40 ms",
            variant="all",
            visit="first",
        ),
        headline(
            "StaticFiles / aiohttp add_static, 180 KB photo (requests/s)",
            "Requests/s",
            "vs_aiohttp",
            "aiohttp add_static",
            case="photo, 180 KB",
            server="lab StaticFiles",
        ),
    ),
)
