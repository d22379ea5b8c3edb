"""Verification of Sigstore bundles: certificate chain, signature, trusted time, signer identity."""

from waybill.attestations.verification.identity import IdentityPolicy, SignerIdentity, signer_identity
from waybill.attestations.verification.trust import (
    GITHUB,
    PUBLIC_GOOD,
    TrustRoot,
    TrustRootError,
    TrustRoots,
)
from waybill.attestations.verification.verifier import (
    ContentKind,
    LogEntry,
    Step,
    TimeSource,
    Verdict,
    VerifiedTime,
    verify,
)

__all__ = [
    "GITHUB",
    "PUBLIC_GOOD",
    "ContentKind",
    "IdentityPolicy",
    "LogEntry",
    "SignerIdentity",
    "Step",
    "TimeSource",
    "TrustRoot",
    "TrustRootError",
    "TrustRoots",
    "Verdict",
    "VerifiedTime",
    "signer_identity",
    "verify",
]
