"""The shared values: a digest is parsed once, into its algorithm and value."""

from __future__ import annotations

import pytest

from waybill.core.types import Digest

HEX = "ab" * 32


def test_str_is_the_stored_form() -> None:
    assert str(Digest("sha256", HEX)) == f"sha256:{HEX}"


def test_parse_lowercases_the_algorithm_and_hex() -> None:
    digest = Digest.parse(f"SHA256:{HEX.upper()}")
    assert digest == Digest("sha256", HEX)
    assert digest is not None
    assert (digest.algorithm, digest.hex) == ("sha256", HEX)


def test_parse_keeps_a_value_that_is_not_hex_for_other_algorithms() -> None:
    assert Digest.parse("gitCommit:v1.2-Tag") == Digest("gitcommit", "v1.2-Tag")


@pytest.mark.parametrize(
    "raw",
    [
        HEX,  # no algorithm
        f"sha256:{HEX[:-1]}",  # a known algorithm's length is fixed
        "sha512:" + "zz" * 64,  # and its value is hex
        "sha256:",
        f":{HEX}",
        f"sha 256:{HEX}",
        "sha256:" + HEX + " ",
    ],
)
def test_parse_refuses_what_is_not_a_digest(raw: str) -> None:
    assert Digest.parse(raw) is None


def test_of_reads_an_in_toto_subject_entry() -> None:
    assert Digest.of("sha1", "A" * 40) == Digest("sha1", "a" * 40)
    assert Digest.of("sha1", "a" * 41) is None


def test_sha256_takes_only_githubs_artifact_pattern() -> None:
    assert Digest.sha256(f"sha256:{HEX}") == Digest("sha256", HEX)
    assert Digest.sha256(f"sha256:{HEX.upper()}") is None
    assert Digest.sha256(f"SHA256:{HEX}") is None
    assert Digest.sha256("sha1:" + "a" * 40) is None
    assert Digest.sha256(f"sha256:{HEX}\n") is None
