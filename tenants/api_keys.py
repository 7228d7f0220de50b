"""
What a shop's API key is: `sf_<public prefix>_<secret>`, shown once when it is
made and stored only as its hash (tenants/api/auth.py checks it on each request).
"""

from __future__ import annotations

import hashlib
import secrets

API_KEY_PREFIX_LENGTH = 12


def api_key_hash(secret: str) -> str:
    """Hash a key as it is stored and compared (a long random key needs no slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_generate() -> tuple[str, str, str]:
    """Return (full key shown once, public prefix, hash of the key)."""
    prefix = secrets.token_hex(API_KEY_PREFIX_LENGTH // 2)
    key = f"sf_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, api_key_hash(key)
