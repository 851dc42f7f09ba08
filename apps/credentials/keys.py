"""Parsing the keys merchants paste in: RSA private keys (PEM, PKCS#8 or PKCS#1, or Alipay's bare
base64), public keys and certificates (PEM, or Alipay's bare base64). A key that does not parse is
refused when it is saved, not when the first payment needs it."""

import base64
import binascii
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes


class InvalidKey(ValueError):
    """The text is not a key of the kind asked for (the message says why, never the key)."""


def _der(text: str) -> bytes:
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidKey("not PEM and not base64") from error


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = serialization.load_der_private_key(_der(text), password=None)
    except InvalidKey:
        raise
    except (ValueError, TypeError) as error:
        raise InvalidKey("not an unencrypted private key") from error
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise InvalidKey("not an RSA key of 2048 bits or more")
    return key


def load_public_key(text: str) -> rsa.RSAPublicKey:
    text = text.strip()
    key: PublicKeyTypes
    try:
        if "BEGIN CERTIFICATE" in text:
            key = x509.load_pem_x509_certificate(text.encode()).public_key()
        elif text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(_der(text))
    except InvalidKey:
        raise
    except (ValueError, TypeError) as error:
        raise InvalidKey("not a public key or certificate") from error
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise InvalidKey("not an RSA key of 2048 bits or more")
    return key


def fingerprint(text: str) -> str:
    """What the admin shows of a secret: a short digest, enough to tell two keys apart."""
    if not text:
        return ""
    return "sha256:" + hashlib.sha256(text.strip().encode()).hexdigest()[:12]
