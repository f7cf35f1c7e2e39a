"""What the static handler answers: cache headers, 304s, negotiation with Vary, ranges,
and refusals. Pure: the answers are checked before any framework sends them."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.patterns.cdn import IMMUTABLE, REVALIDATE, Manifest, StaticFiles, build_assets
from tests.cdn_helpers import make_assets

CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
BR = {"accept-encoding": "gzip, deflate, br"}
Built = tuple[Path, Manifest]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("cdn")
    manifest = build_assets(make_assets(root / "src"), root / "out")
    (root / "plain").mkdir()
    (root / "plain" / "page.html").write_text("<p>hello</p>\n" * 50)
    return root, manifest


@pytest.fixture(scope="module")
def files(built: Built) -> StaticFiles:
    return StaticFiles(built[0] / "out")


def _path(built: Built, name: str) -> str:
    return built[1].entries[name].path


def test_fingerprinted_names_are_immutable(files: StaticFiles, built: Built) -> None:
    answer = files.respond("GET", _path(built, "js/app.js"), {})
    headers = dict(answer.headers)
    assert answer.status == 200 and headers["Cache-Control"] == IMMUTABLE
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["Vary"] == "Accept-Encoding"
    assert answer.body == (built[0] / "out" / _path(built, "js/app.js")).read_bytes()
    assert int(headers["Content-Length"]) == len(answer.body)


def test_other_files_revalidate_with_an_etag_and_get_a_304(built: Built) -> None:
    plain = StaticFiles(built[0] / "plain")
    first = dict(plain.respond("GET", "page.html", {}).headers)
    assert first["Cache-Control"] == REVALIDATE and first["ETag"].startswith('"')
    again = plain.respond("GET", "page.html", {"if-none-match": first["ETag"]})
    assert again.status == 304 and again.body == b""
    assert dict(again.headers)["ETag"] == first["ETag"]
    other = plain.respond("GET", "page.html", {"if-none-match": '"something-else"'})
    assert other.status == 200


def test_encoding_is_negotiated_and_each_twin_has_its_own_etag(
    files: StaticFiles, built: Built
) -> None:
    path = _path(built, "css/site.css")
    out = built[0] / "out"
    br, gz, plain = (files.respond("GET", path, {"accept-encoding": header})
                     for header in ("gzip, deflate, br", "gzip", ""))  # fmt: skip
    assert (
        dict(br.headers)["Content-Encoding"] == "br"
        and br.body == (out / (path + ".br")).read_bytes()
    )
    assert dict(gz.headers)["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in dict(plain.headers)
    assert len({dict(a.headers)["ETag"] for a in (br, gz, plain)}) == 3
    for answer in (br, gz, plain):
        assert dict(answer.headers)["Vary"] == "Accept-Encoding"
        assert dict(answer.headers)["Content-Type"] == "text/css; charset=utf-8"
    etag = dict(br.headers)["ETag"]
    assert files.respond("GET", path, {**BR, "if-none-match": etag}).status == 304
    # the br twin's tag does not validate the gzip representation
    assert files.respond("GET", path, {"accept-encoding": "gzip", "if-none-match": etag}
                         ).status == 200  # fmt: skip


def test_image_format_is_negotiated_by_accept(files: StaticFiles, built: Built) -> None:
    path = _path(built, "img/photo-0.jpg")
    entry = built[1].entries["img/photo-0.jpg"]
    modern = files.respond("GET", path, {"accept": CHROME_ACCEPT})
    best = "avif" if entry.full_width("avif") else "webp"
    assert dict(modern.headers)["Content-Type"] == f"image/{best}"
    full = entry.full_width(best)
    assert full is not None and modern.body == (built[0] / "out" / full.path).read_bytes()
    webp = files.respond("GET", path, {"accept": "image/webp,*/*"})
    assert dict(webp.headers)["Content-Type"] == "image/webp"
    old = files.respond("GET", path, {"accept": "image/*,*/*;q=0.8"})
    assert dict(old.headers)["Content-Type"] == "image/jpeg" and len(old.body) == entry.size
    for answer in (modern, webp, old):
        assert dict(answer.headers)["Vary"] == "Accept"
        assert dict(answer.headers)["Cache-Control"] == IMMUTABLE
    variant = files.respond("GET", full.path, {"accept": CHROME_ACCEPT})
    assert "Vary" not in dict(variant.headers)  # a variant's own URL names one format


def test_ranges(files: StaticFiles, built: Built) -> None:
    path = _path(built, "js/app.js")
    whole = files.respond("GET", path, {}).body
    part = files.respond("GET", path, {**BR, "range": "bytes=10-19"})
    headers = dict(part.headers)
    assert part.status == 206 and part.body == whole[10:20]
    assert headers["Content-Range"] == f"bytes 10-19/{len(whole)}"
    assert "Content-Encoding" not in headers  # a range is cut from the identity bytes
    tail = files.respond("GET", path, {"range": "bytes=-5"})
    assert tail.status == 206 and tail.body == whole[-5:]
    past = files.respond("GET", path, {"range": f"bytes={len(whole)}-"})
    assert past.status == 416 and dict(past.headers)["Content-Range"] == f"bytes */{len(whole)}"
    several = files.respond("GET", path, {"range": "bytes=0-1,4-5"})
    assert several.status == 200 and several.body == whole
    etag = dict(files.respond("GET", path, {}).headers)["ETag"]
    held = files.respond("GET", path, {"range": "bytes=0-3", "if-range": etag})
    assert held.status == 206
    stale = files.respond("GET", path, {"range": "bytes=0-3", "if-range": '"old"'})
    assert stale.status == 200 and stale.body == whole


def test_head_has_the_headers_and_no_body(files: StaticFiles, built: Built) -> None:
    path = _path(built, "js/app.js")
    head = files.respond("HEAD", path, {})
    get = files.respond("GET", path, {})
    assert head.status == 200 and head.body == b"" and head.file is None
    assert dict(head.headers) == dict(get.headers)


def test_other_methods_are_refused(files: StaticFiles, built: Built) -> None:
    answer = files.respond("POST", _path(built, "js/app.js"), {})
    assert answer.status == 405 and dict(answer.headers)["Allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        "../src/js/app.js", "img/../manifest.json", "img/../../src/robots.txt",
        "/etc/passwd", "//etc/passwd", "%2e%2e/src/robots.txt", "..%2fsrc%2frobots.txt",
        "img\\..\\manifest.json", "img/./photo-0.jpg", "", "img/", "js/app.js\x00.png",
        "manifest.json",
    ],
)  # fmt: skip
def test_traversal_and_unknown_paths_are_404(files: StaticFiles, path: str) -> None:
    answer = files.respond("GET", path, {})
    assert answer.status == 404 and answer.file is None and answer.body == b"not found\n"


def test_large_files_are_sent_from_disk(built: Built) -> None:
    on_disk = StaticFiles(built[0] / "out", memory_limit=0)
    path = _path(built, "js/app.js")
    answer = on_disk.respond("GET", path, {"range": "bytes=5-9"})
    assert answer.body == b"" and answer.file == built[0] / "out" / path
    assert (answer.offset, answer.length) == (5, 5)


def test_the_table_holds_files_not_twins_or_the_manifest(files: StaticFiles, built: Built) -> None:
    entry = built[1].entries["css/site.css"]
    assert entry.path in files and entry.path + ".br" not in files
    variants = sum(len(e.variants) for e in built[1].entries.values())
    assert len(files) == len(built[1].entries) + variants
