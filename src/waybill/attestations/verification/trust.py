"""Trust roots: Sigstore ``trusted_root.json`` documents, the shipped ones and the operator's own.

A root is loaded once and everything verification needs from it (certificate stores per validity
window, timestamp-authority verifiers, log keyrings) is prepared here, so that verifying a bundle
does no parsing of the root.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.x509 import Certificate
from cryptography.x509.verification import Store
from rfc3161_client import VerifierBuilder
from rfc3161_client.verify import Verifier as TimestampVerifier
from sigstore._internal.trust import CertificateAuthority, CTKeyring, Keyring, RekorKeyring
from sigstore.models import TrustedRoot
from sigstore_models.common import v1 as common_v1
from sigstore_models.trustroot import v1 as trustroot_v1

PUBLIC_GOOD = "public-good"
GITHUB = "github"


class TrustRootError(Exception):
    """A trust root file that cannot be read or is not a Sigstore trusted root."""


@dataclass(frozen=True)
class Window:
    """A validity period from a trust root; ``end`` None means still valid."""

    start: datetime
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment <= self.end)


def _window(valid_for: common_v1.TimeRange | None) -> Window:
    # A key without a validity period has always been valid.
    if valid_for is None:
        return Window(datetime.min.replace(tzinfo=UTC), None)
    return Window(valid_for.start, valid_for.end)


@dataclass(frozen=True)
class Authority:
    """A Fulcio certificate authority: its chain (leaf-most first) and when it was allowed to issue."""

    window: Window
    certificates: tuple[Certificate, ...]


@dataclass(frozen=True)
class TimestampAuthority:
    window: Window
    verifier: TimestampVerifier
    subject: str


@dataclass(frozen=True)
class Log:
    """A transparency log (Rekor) or certificate-transparency log of the root."""

    key_id: bytes
    base_url: str
    window: Window


@dataclass(frozen=True)
class TrustRoot:
    """One Sigstore instance's root of trust, named after its file."""

    name: str
    inner: trustroot_v1.TrustedRoot = field(repr=False)

    @classmethod
    def from_json(cls, name: str, raw: str | bytes) -> TrustRoot:
        try:
            document: Any = json.loads(raw)
        except ValueError as exc:
            raise TrustRootError(f"trust root {name!r}: not JSON ({exc})") from exc
        if not isinstance(document, dict):
            raise TrustRootError(f"trust root {name!r}: not a JSON object")
        # GitHub's root has no logs at all and leaves these lists out, which the protobuf JSON
        # mapping allows but the sigstore models do not.
        document.setdefault("tlogs", [])
        document.setdefault("ctlogs", [])
        document.setdefault("certificateAuthorities", [])
        document.setdefault("timestampAuthorities", [])
        try:
            inner = trustroot_v1.TrustedRoot.from_json(json.dumps(document))
            TrustedRoot(inner)  # checks the media type
        except Exception as exc:
            raise TrustRootError(f"trust root {name!r}: not a Sigstore trusted root ({exc})") from exc
        return cls(name=name, inner=inner)

    @classmethod
    def from_file(cls, path: Path) -> TrustRoot:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise TrustRootError(f"trust root {path.name}: {exc.strerror}") from exc
        return cls.from_json(path.stem, raw)

    @cached_property
    def authorities(self) -> tuple[Authority, ...]:
        result = []
        for inner in self.inner.certificate_authorities:
            ca = CertificateAuthority(inner)
            result.append(
                Authority(
                    window=Window(ca.validity_period_start, ca.validity_period_end),
                    certificates=tuple(ca.certificates(allow_expired=True)),
                )
            )
        return tuple(result)

    def store_at(self, moment: datetime) -> Store | None:
        """The certificates of every CA allowed to issue at ``moment``; None when there is none."""
        certificates = [
            certificate
            for authority in self.authorities
            if authority.window.contains(moment)
            for certificate in authority.certificates
        ]
        return Store(certificates) if certificates else None

    @cached_property
    def timestamp_authorities(self) -> tuple[TimestampAuthority, ...]:
        result = []
        for inner in self.inner.timestamp_authorities:
            ca = CertificateAuthority(inner)
            certificates = ca.certificates(allow_expired=True)
            builder = VerifierBuilder().tsa_certificate(certificates[0])
            # A self-signed TSA certificate is its own root.
            builder = builder.add_root_certificate(certificates[-1])
            for intermediate in certificates[1:-1]:
                builder = builder.add_intermediate_certificate(intermediate)
            result.append(
                TimestampAuthority(
                    window=Window(ca.validity_period_start, ca.validity_period_end),
                    verifier=builder.build(),
                    subject=certificates[0].subject.rfc4514_string(),
                )
            )
        return tuple(result)

    @cached_property
    def tlogs(self) -> Mapping[bytes, Log]:
        return {
            log.log_id.key_id: Log(
                key_id=log.log_id.key_id,
                base_url=log.base_url,
                window=_window(log.public_key.valid_for),
            )
            for log in self.inner.tlogs
        }

    @cached_property
    def rekor_keyring(self) -> RekorKeyring:
        return RekorKeyring(Keyring([log.public_key for log in self.inner.tlogs]))

    @cached_property
    def ct_keyring(self) -> CTKeyring:
        return CTKeyring(Keyring([log.public_key for log in self.inner.ctlogs]))

    @property
    def has_ctlogs(self) -> bool:
        return bool(self.inner.ctlogs)

    def prepare(self) -> TrustRoot:
        """Build every derived structure now rather than on the first verification."""
        _ = (self.authorities, self.timestamp_authorities, self.tlogs, self.rekor_keyring, self.ct_keyring)
        return self


class TrustRoots:
    """The set of roots a bundle may verify against, by name."""

    def __init__(self, roots: Iterable[TrustRoot]) -> None:
        self._roots: dict[str, TrustRoot] = {}
        for root in roots:
            self._roots[root.name] = root.prepare()

    def __iter__(self) -> Iterator[TrustRoot]:
        return iter(self._roots.values())

    def __len__(self) -> int:
        return len(self._roots)

    def __getitem__(self, name: str) -> TrustRoot:
        return self._roots[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._roots)

    def only(self, *names: str) -> TrustRoots:
        return TrustRoots(self._roots[name] for name in names)

    def merged(self, other: TrustRoots) -> TrustRoots:
        """These roots with ``other``'s added; a root of the same name is replaced."""
        return TrustRoots([*self._roots.values(), *other])

    @classmethod
    def builtin(cls) -> TrustRoots:
        """Sigstore's public-good root and GitHub's, as shipped with Waybill."""
        folder = resources.files(__package__).joinpath("trust_roots")
        return cls(
            TrustRoot.from_json(name, folder.joinpath(f"{name}.json").read_bytes())
            for name in (PUBLIC_GOOD, GITHUB)
        )

    @classmethod
    def from_path(cls, path: Path) -> TrustRoots:
        """A ``trusted_root.json`` file, or every ``*.json`` file of a directory."""
        if path.is_dir():
            files = sorted(path.glob("*.json"))
            if not files:
                raise TrustRootError(f"trust roots: no *.json file in {path.name}")
            return cls(TrustRoot.from_file(file) for file in files)
        return cls([TrustRoot.from_file(path)])

    @classmethod
    def configured(cls, path: Path | None) -> TrustRoots:
        """The shipped roots, with the operator's (``WAYBILL_TRUST_ROOTS``) added or replacing."""
        roots = cls.builtin()
        return roots if path is None else roots.merged(cls.from_path(path))
