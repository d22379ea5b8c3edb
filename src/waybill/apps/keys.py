"""An app's RSA key pair: made here (the private half handed out once, never stored) or the
operator's own public key, checked before it is registered."""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from waybill.core.errors import ValidationFailed

# GitHub's app keys are 2048-bit RSA; shorter ones are refused as too weak to sign with.
MIN_BITS = 2048


def generate() -> tuple[str, str]:
    """A new key pair as (private PEM, public PEM). The private key is PKCS#1 ("BEGIN RSA PRIVATE
    KEY"), the form GitHub's downloads take, which every app library reads."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=MIN_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return private, public_pem(key.public_key())


def public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def parse_public(pem: str) -> str:
    """The operator's RSA public key (or a private key, whose public half is kept) in canonical PEM."""
    data = pem.encode()
    key: object
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError):
            raise ValidationFailed.one("App", "public_key", "invalid", "not a PEM RSA key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValidationFailed.one("App", "public_key", "invalid", "the key must be an RSA key")
    if key.key_size < MIN_BITS:
        raise ValidationFailed.one(
            "App", "public_key", "invalid", f"the key must have at least {MIN_BITS} bits"
        )
    return public_pem(key)


@lru_cache(maxsize=256)
def loaded(pem: str) -> rsa.RSAPublicKey:
    """The key object of a registered PEM, parsed once per process rather than on every JWT."""
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return key
