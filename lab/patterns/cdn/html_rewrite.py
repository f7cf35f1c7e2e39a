"""Rewrite a page's asset references for a CDN, and make its images cheap to load.

* ``src``/``href`` of ``img``, ``script``, ``link`` and ``source`` naming a manifest entry
  become ``base_url`` + the fingerprinted path (``base_url`` may be a CDN's origin);
* each ``<img>`` of a raster image gets ``width``/``height`` (no layout shift) and, when
  the pipeline made variants, a ``<picture>`` with AVIF and WebP ``<source>``s and
  ``srcset``/``sizes``, so the browser picks format and width;
* the first ``eager_images`` images (above the fold) load at once, the first with
  ``fetchpriority="high"``; the rest get ``loading="lazy" decoding="async"``, or, with
  ``lazy="script"``, ``data-src`` and :data:`LAZY_LOADER_JS`, which uses native lazy
  loading where the browser has it and an ``IntersectionObserver`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from typing import Literal

from lab.patterns.cdn.manifest import AssetEntry, Manifest

__all__ = ["LAZY_LOADER_JS", "PLACEHOLDER", "RewriteSettings", "rewrite_html"]

#: A transparent 1x1 GIF: what a script-lazy image shows until it is swapped in.
PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

LAZY_LOADER_JS = """(function () {
  function show(img) {
    var picture = img.parentNode && img.parentNode.tagName === "PICTURE" ? img.parentNode : null;
    if (picture) {
      picture.querySelectorAll("source[data-srcset]").forEach(function (source) {
        source.srcset = source.getAttribute("data-srcset");
        source.removeAttribute("data-srcset");
      });
    }
    if (img.hasAttribute("data-srcset")) img.srcset = img.getAttribute("data-srcset");
    if (img.hasAttribute("data-src")) img.src = img.getAttribute("data-src");
    img.classList.remove("lab-lazy");
  }
  var images = Array.prototype.slice.call(document.querySelectorAll("img.lab-lazy"));
  var forced = document.documentElement.getAttribute("data-lab-lazy") === "observer";
  if (!forced && "loading" in HTMLImageElement.prototype) {
    images.forEach(function (img) { img.loading = "lazy"; show(img); });
    return;
  }
  if (!("IntersectionObserver" in window)) { images.forEach(show); return; }
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) { observer.unobserve(entry.target); show(entry.target); }
    });
  }, { rootMargin: "200px 0px" });
  images.forEach(function (img) { observer.observe(img); });
})();
"""

_URL_ATTRS = {"img": "src", "script": "src", "link": "href", "source": "src"}
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
Attrs = list[tuple[str, str | None]]


@dataclass(frozen=True)
class RewriteSettings:
    base_url: str = "/static/"
    lazy: Literal["native", "script", "off"] = "native"
    eager_images: int = 1
    picture: bool = True  # <picture> with modern formats where variants exist
    sizes: str = "(max-width: 960px) 100vw, 960px"


def _tag(name: str, attrs: Attrs) -> str:
    parts = [name] + [
        key if value is None else f'{key}="{escape(value, quote=True)}"' for key, value in attrs
    ]
    return "<" + " ".join(parts) + ">"


def _set(attrs: Attrs, key: str, value: str) -> Attrs:
    return [(k, v) for k, v in attrs if k != key] + [(key, value)]


class _Rewriter(HTMLParser):
    def __init__(self, manifest: Manifest, settings: RewriteSettings) -> None:
        super().__init__(convert_charrefs=False)
        self.manifest = manifest
        self.s = settings
        self.out: list[str] = []
        self.images = 0
        self.in_picture = 0
        self.in_noscript = 0
        self.lazy_scripted = False

    def entry(self, ref: str | None) -> AssetEntry | None:
        if not ref or ref.startswith(("http:", "https:", "//", "data:")):
            return None
        return self.manifest.entries.get(ref.removeprefix("/"))

    def handle_starttag(self, tag: str, attrs: Attrs) -> None:
        key = _URL_ATTRS.get(tag)
        found = self.entry(dict(attrs).get(key)) if key else None
        if tag == "picture":
            self.in_picture += 1
        if tag == "noscript":
            self.in_noscript += 1
        if tag == "img" and not self.in_noscript:
            self.out.append(self.image(attrs, found))
        elif found is not None and key is not None:
            self.out.append(_tag(tag, _set(attrs, key, self.s.base_url + found.path)))
        else:
            self.out.append(self.get_starttag_text() or _tag(tag, attrs))

    def handle_startendtag(self, tag: str, attrs: Attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.out.append(f"</{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "picture":
            self.in_picture = max(0, self.in_picture - 1)
        if tag == "noscript":
            self.in_noscript = max(0, self.in_noscript - 1)
        if tag == "body" and self.lazy_scripted:
            self.out.append(f"<script>{LAZY_LOADER_JS}</script>")
            self.lazy_scripted = False
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")

    def image(self, attrs: Attrs, entry: AssetEntry | None) -> str:
        self.images += 1
        eager = self.images <= self.s.eager_images
        if entry is not None:
            attrs = _set(attrs, "src", self.s.base_url + entry.path)
            names = {k for k, _ in attrs}
            if entry.width and entry.height and not names & {"width", "height"}:
                attrs = [*attrs, ("width", str(entry.width)), ("height", str(entry.height))]
        if eager:
            attrs = _set(attrs, "fetchpriority", "high") if self.images == 1 else attrs
        elif self.s.lazy == "native":
            attrs = _set(_set(attrs, "loading", "lazy"), "decoding", "async")
        sources: list[Attrs] = []
        wrap = entry is not None and entry.variants and self.s.picture and not self.in_picture
        if wrap and entry is not None:
            original = entry.content_type.removeprefix("image/")
            for fmt in ("avif", "webp"):
                srcset = entry.srcset(fmt, self.s.base_url)
                if srcset:
                    sources.append(
                        [("type", f"image/{fmt}"), ("srcset", srcset), ("sizes", self.s.sizes)]
                    )
            srcset = entry.srcset(original, self.s.base_url)
            if srcset:
                attrs = _set(_set(attrs, "srcset", srcset), "sizes", self.s.sizes)
        plain = _tag("img", attrs)
        if self.s.lazy == "script" and not eager and entry is not None:
            self.lazy_scripted = True
            attrs = self.deferred(attrs)
            sources = [
                [(("data-srcset" if k == "srcset" else k), v) for k, v in source]
                for source in sources
            ]
        html = "".join(_tag("source", source) for source in sources) + _tag("img", attrs)
        if sources:
            html = f"<picture>{html}</picture>"
        if self.s.lazy == "script" and not eager and entry is not None:
            html += f"<noscript>{plain}</noscript>"
        return html

    @staticmethod
    def deferred(attrs: Attrs) -> Attrs:
        moved: Attrs = []
        classes = "lab-lazy"
        for key, value in attrs:
            if key in ("src", "srcset"):
                moved.append((f"data-{key}", value))
            elif key == "class":
                classes = f"{value} lab-lazy"
            else:
                moved.append((key, value))
        return [("src", PLACEHOLDER), *moved, ("class", classes)]


def rewrite_html(html: str, manifest: Manifest, settings: RewriteSettings | None = None) -> str:
    """``html`` with its asset references and images rewritten (see the module)."""
    rewriter = _Rewriter(manifest, settings or RewriteSettings())
    rewriter.feed(html)
    rewriter.close()
    if rewriter.lazy_scripted:  # no </body> in the document
        rewriter.out.append(f"<script>{LAZY_LOADER_JS}</script>")
    return "".join(rewriter.out)
