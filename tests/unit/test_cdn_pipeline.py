"""The asset pipeline: hashed names, twins, variants, a stable manifest, safe output."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest
from PIL import Image

from lab.patterns.cdn import Manifest, PipelineSettings, available_image_formats, build_assets
from tests.cdn_helpers import make_assets


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_assets(tmp_path / "src")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_every_file_gets_a_content_hash_name(source: Path, tmp_path: Path) -> None:
    manifest = build_assets(source, tmp_path / "out")
    assert set(manifest.entries) == {"img/photo-0.jpg", "img/photo-1.jpg", "css/site.css",
                                     "js/app.js", "robots.txt"}  # fmt: skip
    for entry in manifest.entries.values():
        assert entry.fingerprinted and entry.digest in entry.path
        assert (tmp_path / "out" / entry.path).stat().st_size == entry.size


def test_manifest_is_identical_across_builds_of_unchanged_files(
    source: Path, tmp_path: Path
) -> None:
    build_assets(source, tmp_path / "a")
    build_assets(source, tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    build_assets(source, tmp_path / "a")  # a rebuild in place
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_a_changed_file_renames_it_and_the_css_using_it(source: Path, tmp_path: Path) -> None:
    before = build_assets(source, tmp_path / "a")
    Image.new("RGB", (560, 240), "red").save(source / "img" / "photo-0.jpg")
    after = build_assets(source, tmp_path / "b")
    assert after.entries["img/photo-0.jpg"].path != before.entries["img/photo-0.jpg"].path
    assert after.entries["css/site.css"].path != before.entries["css/site.css"].path
    assert after.entries["js/app.js"].path == before.entries["js/app.js"].path


def test_css_urls_name_the_hashed_files(source: Path, tmp_path: Path) -> None:
    manifest = build_assets(source, tmp_path / "out")
    css = (tmp_path / "out" / manifest.entries["css/site.css"].path).read_text()
    hashed = Path(manifest.entries["img/photo-0.jpg"].path).name
    assert f"url('../img/{hashed}')" in css


def test_text_twins_decompress_to_the_original(source: Path, tmp_path: Path) -> None:
    manifest = build_assets(source, tmp_path / "out")
    entry = manifest.entries["js/app.js"]
    original = (tmp_path / "out" / entry.path).read_bytes()
    assert brotli.decompress((tmp_path / "out" / (entry.path + ".br")).read_bytes()) == original
    assert gzip.decompress((tmp_path / "out" / (entry.path + ".gz")).read_bytes()) == original
    assert set(entry.encodings) == {"br", "gzip"}
    assert manifest.entries["img/photo-0.jpg"].encodings == {}  # JPEG is not compressed again
    assert manifest.entries["robots.txt"].encodings == {}  # 14 bytes: no saving worth a twin


def test_variants_exist_are_smaller_and_have_the_stated_size(source: Path, tmp_path: Path) -> None:
    manifest = build_assets(source, tmp_path / "out")
    entry = manifest.entries["img/photo-0.jpg"]
    assert (entry.width, entry.height) == (560, 240)
    formats = {v.format for v in entry.variants}
    assert set(available_image_formats()) <= formats
    assert {v.width for v in entry.variants} == {480, 560}  # 960 is above the original
    for variant in entry.variants:
        assert variant.size < entry.size
        with Image.open(tmp_path / "out" / variant.path) as image:
            assert image.size == (variant.width, variant.height)
            assert image.format.lower() == variant.format


def test_no_fingerprint_and_no_variants(source: Path, tmp_path: Path) -> None:
    plain = PipelineSettings(fingerprint=False, encodings=(), image_formats=(), widths=())
    manifest = build_assets(source, tmp_path / "out", plain)
    for entry in manifest.entries.values():
        assert entry.path == entry.name and not entry.fingerprinted
        assert entry.variants == () and entry.encodings == {}


def test_manifest_round_trips(source: Path, tmp_path: Path) -> None:
    manifest = build_assets(source, tmp_path / "out")
    assert Manifest.load(tmp_path / "out" / "manifest.json") == manifest


def test_a_folder_of_other_files_is_never_deleted(source: Path, tmp_path: Path) -> None:
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match=r"no manifest\.json"):
        build_assets(source, precious)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_a_failed_build_leaves_the_previous_output(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_assets(source, out)
    before = _files(out)
    (source / "img" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"img/broken.png is not a readable image"):
        build_assets(source, out)
    assert _files(out) == before
    assert not list(tmp_path.glob(".out.building"))


def test_output_inside_source_is_refused(source: Path) -> None:
    with pytest.raises(ValueError, match="inside the source"):
        build_assets(source, source / "out")


def test_unknown_image_format_is_refused(source: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot encode jxl"):
        build_assets(source, tmp_path / "out", PipelineSettings(image_formats=("jxl",)))
