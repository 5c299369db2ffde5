"""Who and which firm the current unit of work is for.

Held in context variables rather than only in ``flask.g`` so that the CLI, the
worker and tests enter the same context the web requests use: background work
receives a ``tenant_id`` explicitly and re-enters it with :func:`tenant_context`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from distretto.tenants.models import Tenant


@dataclass(frozen=True, slots=True)
class TenantScope:
    id: int
    slug: str
    tenant: Any  # the Tenant row, for display; the id is what scopes queries


_tenant: ContextVar[TenantScope | None] = ContextVar("distretto_tenant", default=None)
_actor: ContextVar[int | None] = ContextVar("distretto_actor", default=None)


def current_tenant_id() -> int | None:
    scope = _tenant.get()
    return scope.id if scope else None


def current_scope() -> TenantScope | None:
    return _tenant.get()


def current_actor_id() -> int | None:
    """The user on whose behalf the work runs (None for the system)."""
    return _actor.get()


def _get_current_tenant() -> Tenant | None:
    scope = _tenant.get()
    return scope.tenant if scope else None


current_tenant: Tenant = LocalProxy(_get_current_tenant)  # type: ignore[assignment]


@contextmanager
def tenant_context(tenant: Tenant, actor_id: int | None = None) -> Iterator[TenantScope]:
    """Run the enclosed block as ``tenant``; every ORM query is scoped to it.

    Switching tenant inside one session first flushes the work pending for the
    tenant being left (on entry, and on leaving a block that completed), while
    that tenant is still current, then drops every object not known to belong to
    the new tenant from the identity map: a cached object would otherwise be
    returned by ``session.get()`` without any SQL the guard could filter.
    """
    scope = TenantScope(id=int(tenant.id), slug=str(tenant.slug), tenant=tenant)
    previous = _tenant.get()
    _before_switch(previous, scope)
    token = _tenant.set(scope)
    actor_token = _actor.set(actor_id) if actor_id is not None else None
    _on_switch(previous, scope)
    try:
        yield scope
        _before_switch(scope, previous)  # not when the block raised: nothing to keep
    finally:
        _tenant.reset(token)
        if actor_token is not None:
            _actor.reset(actor_token)
        _on_switch(scope, previous)


@contextmanager
def actor_context(user_id: int | None) -> Iterator[None]:
    token = _actor.set(user_id)
    try:
        yield
    finally:
        _actor.reset(token)


def enter_request_scope(tenant: Tenant | None, actor_id: int | None) -> list[Any]:
    """Set the scope for a whole request; ``leave_request_scope`` undoes it."""
    tokens: list[Any] = [_actor.set(actor_id)]
    if tenant is not None:
        previous = _tenant.get()
        scope = TenantScope(id=int(tenant.id), slug=str(tenant.slug), tenant=tenant)
        _before_switch(previous, scope)
        tokens.append(_tenant.set(scope))
        _on_switch(previous, scope)
    return tokens


def leave_request_scope(tokens: list[Any]) -> None:
    for token in reversed(tokens):
        token.var.reset(token)


def _before_switch(old: TenantScope | None, new: TenantScope | None) -> None:
    """Flush what was done for ``old`` while it is still the current tenant."""
    if old is None or (new is not None and old.id == new.id):
        return
    from distretto.platform.db import before_tenant_switch

    before_tenant_switch()


def _on_switch(old: TenantScope | None, new: TenantScope | None) -> None:
    old_id = old.id if old else None
    new_id = new.id if new else None
    if old_id == new_id:
        return
    from distretto.platform.db import after_tenant_switch

    after_tenant_switch(new_id, old_id)
