"""Argon2id password hashing (OWASP parameters), rehashed on login when they change."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import gettext as _

# OWASP 2023: Argon2id, m=19 MiB, t=2, p=1.
TIME_COST = 2
MEMORY_COST = 19 * 1024
PARALLELISM = 1

_hasher = PasswordHasher(
    time_cost=TIME_COST, memory_cost=MEMORY_COST, parallelism=PARALLELISM, type=Type.ID
)

MIN_LENGTH = 10
MAX_LENGTH = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; an account without a password costs the same as one with."""
    if not password_hash:
        _verify_dummy(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _verify_dummy(password: str) -> None:
    try:
        _hasher.verify(dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass


def spend_verification_time(password: str) -> None:
    """Do the work of one verification, for an unknown e-mail address.

    Without it, "no such account" would answer in microseconds and "wrong
    password" in tens of milliseconds, telling an attacker which addresses exist.
    """
    _verify_dummy(password)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """A hash with the current parameters, made once on first use (not at import)."""
    return _hasher.hash("distretto-dummy-password")


def password_problem(password: str) -> str | None:
    """Why a new password is refused (in the reader's language), or None."""
    if len(password) < MIN_LENGTH:
        return _("use at least %(num)d characters", num=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("use at most %(num)d characters", num=MAX_LENGTH)
    return None
