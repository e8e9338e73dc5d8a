"""Encryption at rest for provider API keys (Fernet: AES-128-CBC with HMAC-SHA256).

The Fernet key is derived with HKDF from CREDENTIALS_SECRET when set, else SECRET_KEY.
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class DecryptionError(Exception):
    """A stored value cannot be decrypted with the current secret."""


@functools.cache
def fernet_for(secret: str) -> Fernet:
    """The Fernet instance for a settings secret (derivation is done once per secret)."""
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"roundtable", info=b"credentials"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def current_fernet() -> Fernet:
    """The Fernet for the configured secret."""
    return fernet_for(settings.CREDENTIALS_SECRET or settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    """Encrypt text; the result is ASCII and safe to store."""
    return current_fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt what `encrypt` produced."""
    try:
        return current_fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("The stored key cannot be decrypted with this secret.") from None
