"""Roles and permissions.

A firm member has one role; a role grants permissions named ``area.action``.
The kernel declares its own; each module adds its permissions through its
``Module`` object, saying which roles get them by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g

from distretto.tenants.models import Role

F = TypeVar("F", bound=Callable[..., Any])

KERNEL_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "firm.view": Role.ALL,
    "firm.settings": (Role.OWNER, Role.ADMIN),
    "firm.members": (Role.OWNER, Role.ADMIN),
    "firm.audit": (Role.OWNER, Role.ADMIN),
    "firm.support_access": (Role.OWNER,),
}

_registry: dict[str, frozenset[str]] = {}


def register_permissions(permissions: Mapping[str, Iterable[str]]) -> None:
    for name, roles in permissions.items():
        unknown = set(roles) - set(Role.ALL)
        if unknown:
            raise ValueError(f"permission {name!r} names unknown roles {sorted(unknown)}")
        _registry[name] = frozenset(roles)


def reset_permissions() -> None:
    _registry.clear()
    register_permissions(KERNEL_PERMISSIONS)


reset_permissions()


def all_permissions() -> dict[str, frozenset[str]]:
    return dict(_registry)


def role_has(role: str | None, permission: str) -> bool:
    if role is None:
        return False
    if permission not in _registry:
        raise KeyError(f"unknown permission {permission!r}")
    return role in _registry[permission]


def current_role() -> str | None:
    """The member's role; an operator under a firm's support grant reads as a viewer."""
    membership = g.get("membership")
    if membership is not None:
        return membership.role
    if g.get("support_grant") is not None:
        return Role.VIEWER
    return None


def can(permission: str) -> bool:
    """Whether the current member of the current firm holds ``permission``.

    A request signed in by API token holds only the permissions chosen for the
    token, and of those only what the token's creator's role still grants.
    """
    narrowed = g.get("api_permissions")
    if narrowed is not None and permission not in narrowed:
        return False
    return role_has(current_role(), permission)


def permission_required(permission: str) -> Callable[[F], F]:
    """Refuse the view with 403 unless the member's role grants ``permission``.

    Only reached after the tenant was resolved and membership checked, so a
    non-member has already had 404 and learnt nothing about the firm.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
