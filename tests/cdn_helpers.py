"""A small asset folder for the static-asset tests: two noisy photos, a stylesheet that
uses one of them, a script and a page."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image


def make_assets(folder: Path) -> Path:
    rng = np.random.default_rng(3)
    (folder / "img").mkdir(parents=True)
    (folder / "css").mkdir()
    (folder / "js").mkdir()
    for index in range(2):
        pixels = rng.integers(0, 255, (240, 560, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / "img" / f"photo-{index}.jpg", quality=90)
    words = random.Random(3)
    rules = "\n".join(f".c{i} {{ margin: {words.randint(0, 40)}px; }}" for i in range(300))
    (folder / "css" / "site.css").write_text(
        f"body {{ background: url('../img/photo-0.jpg') }}\n{rules}\n"
    )
    (folder / "js" / "app.js").write_text("console.log('ready');\n" * 200)
    (folder / "robots.txt").write_text("User-agent: *\n")
    return folder
