"""Argon2id password hashing (OWASP parameters), rehashed on login when they change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import gettext as _

# OWASP 2023: Argon2id, m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# A fixed hash checked when the e-mail is unknown, so both paths cost the same time.
DUMMY_HASH = hash_password("distretto-dummy-password")


def password_problem(password: str) -> str | None:
    """Why a new password is refused (in the reader's language), or None."""
    if len(password) < MIN_LENGTH:
        return _("use at least %(num)d characters", num=MIN_LENGTH)
    if len(password) > 1024:
        return _("use at most %(num)d characters", num=1024)
    return None
