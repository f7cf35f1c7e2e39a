"""The HTML rewrite: hashed URLs behind a base URL, <picture>, lazy loading, and output
that is well-formed (every element closed in order, attributes unique, sources inside
a picture before its img)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from lab.patterns.cdn import LAZY_LOADER_JS, Manifest, RewriteSettings, build_assets, rewrite_html
from lab.patterns.cdn.html_rewrite import PLACEHOLDER
from tests.cdn_helpers import make_assets

VOID = {"img", "source", "link", "meta", "br", "hr", "input"}
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>T &amp; C</title>
<link rel="stylesheet" href="css/site.css"><script src="js/app.js" defer></script>
<link rel="preconnect" href="https://fonts.example.com"></head>
<body><h1>Fish &amp; chips</h1>
<img src="img/photo-0.jpg" alt="first">
<p>text &#169; <!-- a comment --></p>
<img src="img/photo-1.jpg" alt="second" class="wide">
<img src="https://elsewhere.example.com/x.png" alt="external">
<img src="img/missing.jpg" alt="not in the manifest">
<picture><img src="img/photo-0.jpg" alt="already in a picture"></picture>
</body></html>
"""


class _Checker(HTMLParser):
    """Collects elements in order and fails on anything that is not well-formed."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.elements: list[tuple[str, dict[str, str | None], tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), f"duplicate attribute in <{tag}>: {names}"
        if tag == "source":
            assert self.stack and self.stack[-1] == "picture", "<source> outside <picture>"
        self.elements.append((tag, dict(attrs), tuple(self.stack)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def _check(html: str) -> list[tuple[str, dict[str, str | None], tuple[str, ...]]]:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.stack == [], f"unclosed: {checker.stack}"
    return checker.elements


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    root = tmp_path_factory.mktemp("rewrite")
    return build_assets(make_assets(root / "src"), root / "out")


def _images(html: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs, stack in _check(html) if tag == "img" and "noscript" not in stack]


def test_urls_point_at_the_hashed_files_behind_the_base_url(manifest: Manifest) -> None:
    html = rewrite_html(PAGE, manifest, RewriteSettings(base_url="https://cdn.example.com/a/"))
    elements = _check(html)
    hrefs = {attrs.get("href") for tag, attrs, _ in elements if tag == "link"}
    assert "https://cdn.example.com/a/" + manifest.entries["css/site.css"].path in hrefs
    assert "https://fonts.example.com" in hrefs  # external: untouched
    scripts = [attrs for tag, attrs, _ in elements if tag == "script"]
    assert scripts[0]["src"] == "https://cdn.example.com/a/" + manifest.entries["js/app.js"].path
    assert "defer" in scripts[0]
    assert "T &amp; C" in html and "Fish &amp; chips" in html and "&#169;" in html
    assert "<!-- a comment -->" in html and html.startswith("<!doctype html>")


def test_images_get_dimensions_picture_and_lazy_below_the_fold(manifest: Manifest) -> None:
    html = rewrite_html(PAGE, manifest, RewriteSettings(eager_images=1))
    images = _images(html)
    first, second, external, missing, nested = images
    entry = manifest.entries["img/photo-0.jpg"]
    assert first["src"] == "/static/" + entry.path
    assert (first["width"], first["height"]) == (str(entry.width), str(entry.height))
    assert first["fetchpriority"] == "high" and "loading" not in first
    assert second["loading"] == "lazy" and second["decoding"] == "async"
    assert second["class"] == "wide" and second["alt"] == "second"
    assert external["src"] == "https://elsewhere.example.com/x.png" and "width" not in external
    assert missing["src"] == "img/missing.jpg" and missing["loading"] == "lazy"
    assert nested["src"] == "/static/" + entry.path
    elements = _check(html)
    pictures = [stack for tag, _, stack in elements if tag == "img" and "picture" in stack]
    assert len(pictures) == 3  # two wrapped, one already in a picture (not wrapped again)
    assert all(stack.count("picture") == 1 for stack in pictures)
    sources = [attrs for tag, attrs, _ in elements if tag == "source"]
    assert {s["type"] for s in sources} >= {"image/webp"}
    webp = next(s for s in sources if s["type"] == "image/webp")
    srcset = webp["srcset"] or ""
    assert all(f"{v.path} {v.width}w" in srcset for v in entry.variants if v.format == "webp")
    assert first["srcset"] and "480w" in first["srcset"] and first["sizes"]


def test_eager_count_and_no_lazy(manifest: Manifest) -> None:
    none_lazy = _images(rewrite_html(PAGE, manifest, RewriteSettings(lazy="off")))
    assert not any("loading" in image for image in none_lazy)
    two_eager = _images(rewrite_html(PAGE, manifest, RewriteSettings(eager_images=2)))
    assert "loading" not in two_eager[1] and two_eager[2]["loading"] == "lazy"


def test_without_picture_no_sources(manifest: Manifest) -> None:
    html = rewrite_html(PAGE, manifest, RewriteSettings(picture=False))
    assert not [tag for tag, _, _ in _check(html) if tag == "source"]


def test_script_mode_defers_sources_and_keeps_a_noscript_fallback(manifest: Manifest) -> None:
    html = rewrite_html(PAGE, manifest, RewriteSettings(lazy="script"))
    elements = _check(html)
    images = _images(html)
    assert images[0]["src"] == "/static/" + manifest.entries["img/photo-0.jpg"].path
    second = images[1]
    assert second["src"] == PLACEHOLDER and "lab-lazy" in (second["class"] or "")
    assert second["data-src"] == "/static/" + manifest.entries["img/photo-1.jpg"].path
    assert second["data-srcset"] and "srcset" not in second
    deferred = [a for t, a, s in elements if t == "source" and "noscript" not in s]
    assert all("data-srcset" in s for s in deferred[2:])  # the first picture is eager
    fallback = [a for t, a, s in elements if t == "img" and "noscript" in s]
    assert fallback and fallback[0]["src"] == second["data-src"]
    assert html.count(LAZY_LOADER_JS) == 1
    assert html.index(LAZY_LOADER_JS) < html.index("</body>")


def test_nothing_to_defer_adds_no_script(manifest: Manifest) -> None:
    html = rewrite_html("<p><img src='img/photo-0.jpg'></p>", manifest,
                        RewriteSettings(lazy="script"))  # fmt: skip
    assert LAZY_LOADER_JS not in html


def test_the_demo_page_rewrites_to_well_formed_html(tmp_path: Path, manifest: Manifest) -> None:
    from lab.experiments.cdn.site import make_source

    make_source(tmp_path, images=2)
    page = (tmp_path / "page.html").read_text()
    for lazy in ("native", "script", "off"):
        _check(rewrite_html(page, manifest, RewriteSettings(lazy=lazy)))  # type: ignore[arg-type]
