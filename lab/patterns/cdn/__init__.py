"""Static assets as a CDN wants them: fingerprinted, precompressed, negotiated, lazy-loaded.

* :func:`build_assets` (``pipeline``): hashed names, ``.br``/``.gz`` twins, AVIF/WebP
  variants at several widths, and the :class:`Manifest`;
* :class:`StaticFiles` (``static_files``): cache headers, ``ETag``/304, ``Accept`` and
  ``Accept-Encoding`` negotiation with ``Vary``, ranges; mounted by
  :func:`add_static_route` (aiohttp) or :class:`StaticASGIApp`;
* :func:`rewrite_html` (``html_rewrite``): hashed URLs behind a CDN base URL,
  ``<picture>``/``srcset``, ``loading="lazy"``, width and height, and a small
  ``IntersectionObserver`` loader for browsers without native lazy loading.
"""

from lab.patterns.cdn.html_rewrite import LAZY_LOADER_JS, RewriteSettings, rewrite_html
from lab.patterns.cdn.manifest import AssetEntry, Manifest, Variant
from lab.patterns.cdn.pipeline import PipelineSettings, available_image_formats, build_assets
from lab.patterns.cdn.servers import StaticASGIApp, add_static_route
from lab.patterns.cdn.static_files import IMMUTABLE, REVALIDATE, StaticFiles, StaticResponse

__all__ = [
    "IMMUTABLE",
    "LAZY_LOADER_JS",
    "REVALIDATE",
    "AssetEntry",
    "Manifest",
    "PipelineSettings",
    "RewriteSettings",
    "StaticASGIApp",
    "StaticFiles",
    "StaticResponse",
    "Variant",
    "add_static_route",
    "available_image_formats",
    "build_assets",
    "rewrite_html",
]
