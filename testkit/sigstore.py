"""A Sigstore instance of our own for tests: a Fulcio-like CA (root and intermediate) issuing short-lived
signing certificates with Fulcio's extensions, and an RFC 3161 timestamp authority (root and signing
certificate). Bundles made here are signed for real; the timestamp responses are encoded with
asn1crypto's RFC 3161 and CMS structures and signed with ``cryptography``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sigstore.dsse import _pae

from waybill.attestations.verification import TrustRoot, TrustRoots

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
DEFAULT_SIGNED_AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
FULCIO = "1.3.6.1.4.1.57264.1."
IN_TOTO = "application/vnd.in-toto+json"
TSA_POLICY = "1.3.6.1.4.1.57264.2"

DEFAULT_IDENTITY = {
    "san": "https://github.com/octo-org/builder/.github/workflows/build.yml@refs/heads/main",
    "issuer": "https://token.actions.githubusercontent.com",
    "build_signer_uri": "https://github.com/octo-org/builder/.github/workflows/build.yml@refs/heads/main",
    "build_signer_digest": "a6c23b9806c593664f68637c8f9d45dfcf98b2db",
    "runner_environment": "github-hosted",
    "source_repository_uri": "https://github.com/octo-org/app",
    "source_repository_digest": "0123456789abcdef0123456789abcdef01234567",
    "source_repository_ref": "refs/heads/main",
}
_EXTENSION_NUMBERS = {
    "issuer": 8,
    "build_signer_uri": 9,
    "build_signer_digest": 10,
    "runner_environment": 11,
    "source_repository_uri": 12,
    "source_repository_digest": 13,
    "source_repository_ref": 14,
}


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Waybill tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    path_length: int | None,
) -> x509.Certificate:
    issuer_name = issuer[0].subject if issuer else _name(subject)
    signing_key = issuer[1] if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(EPOCH)
        .not_valid_after(EPOCH + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


def _key_usage_signing() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class SigstoreDouble:
    """A CA and a TSA, each with a root; ``trust_roots()`` describes them as a Sigstore trusted root."""

    name: str = "test-instance"
    root_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    intermediate_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    tsa_root_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    tsa_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    def __post_init__(self) -> None:
        self.root = _ca_certificate(f"{self.name} root", self.root_key, None, 1)
        self.intermediate = _ca_certificate(
            f"{self.name} intermediate", self.intermediate_key, (self.root, self.root_key), 0
        )
        self.tsa_root = _ca_certificate(f"{self.name} tsa root", self.tsa_root_key, None, 0)
        self.tsa_certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{self.name} tsa"))
            .issuer_name(self.tsa_root.subject)
            .public_key(self.tsa_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(EPOCH)
            .not_valid_after(EPOCH + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage_signing(), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.tsa_root_key.public_key()),
                critical=False,
            )
            .sign(self.tsa_root_key, hashes.SHA256())
        )

    def trusted_root(self) -> dict[str, Any]:
        def chain(*certificates: x509.Certificate) -> dict[str, Any]:
            return {
                "certificates": [
                    {"rawBytes": base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()}
                    for c in certificates
                ]
            }

        start = {"start": EPOCH.isoformat().replace("+00:00", "Z")}
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "certificateAuthorities": [
                {
                    "subject": {"organization": "Waybill tests", "commonName": f"{self.name} root"},
                    "uri": "https://fulcio.test",
                    "certChain": chain(self.intermediate, self.root),
                    "validFor": start,
                }
            ],
            "timestampAuthorities": [
                {
                    "subject": {"organization": "Waybill tests", "commonName": f"{self.name} tsa root"},
                    "uri": "https://timestamp.test",
                    "certChain": chain(self.tsa_certificate, self.tsa_root),
                    "validFor": start,
                }
            ],
        }

    def trust_roots(self) -> TrustRoots:
        return TrustRoots([TrustRoot.from_json(self.name, json.dumps(self.trusted_root()))])

    def leaf(
        self,
        key: ec.EllipticCurvePrivateKey,
        *,
        not_before: datetime,
        not_after: datetime,
        identity: dict[str, str],
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage_signing(), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            # Fulcio certificates have an empty subject, so the SAN is critical.
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity["san"])]), critical=True
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.intermediate_key.public_key()),
                critical=False,
            )
        )
        for name, number in _EXTENSION_NUMBERS.items():
            if name in identity:
                builder = builder.add_extension(
                    x509.UnrecognizedExtension(
                        x509.ObjectIdentifier(f"{FULCIO}{number}"), asn1.encode_der(identity[name])
                    ),
                    critical=False,
                )
        return builder.sign(self.intermediate_key, hashes.SHA256())

    def timestamp(self, message: bytes, at: datetime) -> bytes:
        """A DER TimeStampResp granting a timestamp over SHA-256(``message``) at ``at``."""
        tst_info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": TSA_POLICY,
                "message_imprint": {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "hashed_message": hashlib.sha256(message).digest(),
                },
                "serial_number": x509.random_serial_number(),
                "gen_time": at,
            }
        )
        encoded_info = tst_info.dump()
        tsa_der = self.tsa_certificate.public_bytes(serialization.Encoding.DER)
        tsa_asn1 = asn1_x509.Certificate.load(tsa_der)
        signed_attributes = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute(
                    {"type": "message_digest", "values": [hashlib.sha256(encoded_info).digest()]}
                ),
                cms.CMSAttribute(
                    {
                        "type": "signing_certificate_v2",
                        "values": [
                            tsp.SigningCertificateV2(
                                {"certs": [tsp.ESSCertIDv2({"cert_hash": hashlib.sha256(tsa_der).digest()})]}
                            )
                        ],
                    }
                ),
            ]
        )
        signature = self.tsa_key.sign(signed_attributes.dump(), ec.ECDSA(hashes.SHA256()))
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                            {"issuer": tsa_asn1.issuer, "serial_number": tsa_asn1.serial_number}
                        )
                    }
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": signed_attributes,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed_data = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": core.ParsableOctetString(encoded_info),
                },
                "certificates": [tsa_asn1],
                "signer_infos": [signer_info],
            }
        )
        response = tsp.TimeStampResp(
            {
                "status": {"status": "granted"},
                "time_stamp_token": cms.ContentInfo({"content_type": "signed_data", "content": signed_data}),
            }
        )
        value: bytes = response.dump()
        return value

    def bundle(
        self,
        *,
        payload: bytes | None = None,
        signed_at: datetime = DEFAULT_SIGNED_AT,
        valid_from: datetime | None = None,
        valid_for: timedelta = timedelta(minutes=10),
        identity: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A v0.3 bundle of a DSSE-signed in-toto statement, timestamped at ``signed_at``; the
        certificate is valid for ``valid_for`` from ``valid_from`` (default: 5 s before signing)."""
        key = ec.generate_private_key(ec.SECP256R1())
        not_before = valid_from if valid_from is not None else signed_at - timedelta(seconds=5)
        leaf = self.leaf(
            key,
            not_before=not_before,
            not_after=not_before + valid_for,
            identity={**DEFAULT_IDENTITY, **(identity or {})},
        )
        if payload is None:
            payload = json.dumps(
                {
                    "_type": "https://in-toto.io/Statement/v1",
                    "subject": [{"name": "app.tar.gz", "digest": {"sha256": "ab" * 32}}],
                    "predicateType": "https://slsa.dev/provenance/v1",
                    "predicate": {},
                }
            ).encode()
        pae = _pae(IN_TOTO, payload)
        signature = key.sign(pae, ec.ECDSA(hashes.SHA256()))
        return {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {
                    "rawBytes": base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)).decode()
                },
                "tlogEntries": [],
                "timestampVerificationData": {
                    "rfc3161Timestamps": [
                        {"signedTimestamp": base64.b64encode(self.timestamp(signature, signed_at)).decode()}
                    ]
                },
            },
            "dsseEnvelope": {
                "payload": base64.b64encode(payload).decode(),
                "payloadType": IN_TOTO,
                "signatures": [{"sig": base64.b64encode(signature).decode()}],
            },
        }
