"""The header rules of the static handler, as pure functions."""

from __future__ import annotations

import pytest

from lab.patterns.cdn.negotiation import (
    ByteRange,
    RangeNotSatisfiable,
    choose_encoding,
    choose_image_format,
    etag_matches,
    parse_qlist,
    parse_range,
)

CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


def test_qlist_reads_weights_and_drops_unreadable_ones() -> None:
    assert parse_qlist("gzip;q=0.5, BR, zstd;q=abc, deflate;q=2") == {"gzip": 0.5, "br": 1.0}
    assert parse_qlist(None) == {} == parse_qlist("")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br, zstd", "br"),  # what Chrome sends: the server's preference wins
        ("gzip", "gzip"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip;q=0", "identity"),
        ("*", "br"),
        ("*;q=0.1, br;q=0", "gzip"),
        ("identity", "identity"),
        (None, "identity"),
        ("", "identity"),
    ],
)
def test_encoding_is_the_best_acceptable_twin(header: str | None, expected: str) -> None:
    assert choose_encoding(header, ("br", "gzip")) == expected


def test_encoding_falls_back_to_identity_when_no_twin_exists() -> None:
    assert choose_encoding("br", ()) == "identity"
    assert choose_encoding("br", ("gzip",)) == "identity"


def test_image_format_needs_an_explicit_type() -> None:
    assert choose_image_format(CHROME_ACCEPT, ("avif", "webp")) == "avif"
    assert choose_image_format("image/webp,*/*", ("avif", "webp")) == "webp"
    assert choose_image_format("image/*,*/*;q=0.8", ("avif", "webp")) is None  # a wildcard
    assert choose_image_format("image/avif;q=0, image/webp", ("avif", "webp")) == "webp"
    assert choose_image_format(CHROME_ACCEPT, ()) is None
    assert choose_image_format(None, ("webp",)) is None


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ('"abcd"', False),
        ("*", True),
        ("", False),
        (None, False),
    ],
)
def test_if_none_match_compares_weakly(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", ByteRange(0, 9)),
        ("bytes=90-", ByteRange(90, 99)),
        ("bytes=-10", ByteRange(90, 99)),
        ("bytes=-500", ByteRange(0, 99)),  # a suffix longer than the body: all of it
        ("bytes=50-5000", ByteRange(50, 99)),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=0-1,5-6", None),  # several ranges: sent whole
        ("items=0-1", None),
        ("bytes=9-3", None),
        ("bytes=a-b", None),
        ("bytes=-", None),
        (None, None),
    ],
)
def test_range_parsing(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=250-300", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 100)


def test_content_range_header() -> None:
    assert ByteRange(0, 9).content_range(100) == "bytes 0-9/100"
    assert ByteRange(0, 9).length == 10
