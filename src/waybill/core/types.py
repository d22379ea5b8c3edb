"""Values every domain shares, parsed once where a request brings them in."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Algorithms whose hex length is fixed: a wrong length is a typo worth refusing early.
_HEX_LENGTHS = {"sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
_ALGORITHM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")
# in-toto lets a subject carry digests of other kinds (a git commit, a Go module hash): printable.
_VALUE = re.compile(r"[\x21-\x7e]{1,512}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Digest:
    """A content digest; ``str()`` gives its stored and compared form, ``sha256:<hex>``.

    The algorithm is lower-cased, and so is the value when it is hex."""

    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @classmethod
    def of(cls, algorithm: str, value: str) -> Digest | None:
        """The digest an in-toto subject names by ``{algorithm: value}``, or None when it is none."""
        if not _ALGORITHM.fullmatch(algorithm) or not _VALUE.fullmatch(value):
            return None
        algorithm = algorithm.lower()
        if _HEX.fullmatch(value):
            value = value.lower()
        elif algorithm in _HEX_LENGTHS:
            return None
        expected = _HEX_LENGTHS.get(algorithm)
        if expected is not None and len(value) != expected:
            return None
        return cls(algorithm, value)

    @classmethod
    def parse(cls, raw: str) -> Digest | None:
        """``algorithm:value`` in any case, or None when it is not a digest."""
        algorithm, sep, value = raw.partition(":")
        return cls.of(algorithm, value) if sep else None

    @classmethod
    def sha256(cls, raw: str) -> Digest | None:
        """Exactly ``sha256:`` and 64 lower-case hex digits (GitHub's pattern for an artifact's
        digest), or None."""
        return cls("sha256", raw[7:]) if _SHA256.fullmatch(raw) else None
