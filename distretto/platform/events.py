"""In-process domain events, delivered inside the emitting transaction.

Modules talk to each other through events instead of importing each other's
internals. A handler runs in the same transaction as the change, so it can
change data too (and its failure rolls everything back); anything that must
leave the process is written to the outbox by a handler, never sent from it.

Handlers declared by a module run only for firms that enabled the module;
kernel subscribers (webhooks, for instance) run for every firm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger("distretto.events")

Handler = Callable[..., None]
_kernel_subscribers: dict[str, list[Handler]] = {}


def subscribe(event: str, handler: Handler) -> None:
    """A kernel-level subscriber (for every firm). ``"*"`` receives every event."""
    _kernel_subscribers.setdefault(event, []).append(handler)


def unsubscribe(event: str, handler: Handler) -> None:
    """Remove a kernel subscriber added with :func:`subscribe` (no error if absent)."""
    handlers = _kernel_subscribers.get(event, [])
    if handler in handlers:
        handlers.remove(handler)


@contextmanager
def subscribed(event: str, handler: Handler) -> Iterator[Handler]:
    """Subscribe ``handler`` for the enclosed block only (tests, one-off listeners)."""
    subscribe(event, handler)
    try:
        yield handler
    finally:
        unsubscribe(event, handler)


def emit(event: str, **payload: Any) -> None:
    """Deliver ``event`` now, in the caller's transaction.

    The current firm's enabled modules' handlers run first, in module order,
    then kernel subscribers. A handler's exception propagates to the emitter
    (a workflow transition then rolls back, showing an ActionError's message).
    """
    from distretto.platform.modules import enabled_modules

    for module in enabled_modules():
        for handler in module.event_handlers.get(event, ()):
            handler(**payload)
    for handler in list(_kernel_subscribers.get(event, ())):
        handler(**payload)
    for handler in list(_kernel_subscribers.get("*", ())):
        handler(event, payload)
