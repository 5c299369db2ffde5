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
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("distretto.events")

Handler = Callable[..., None]
_kernel_subscribers: dict[str, list[Handler]] = {}


def subscribe(event: str, handler: Handler) -> None:
    """A kernel-level subscriber (for every firm). ``"*"`` receives every event."""
    _kernel_subscribers.setdefault(event, []).append(handler)


def emit(event: str, **payload: Any) -> None:
    from distretto.platform.modules import enabled_modules

    for module in enabled_modules():
        for handler in module.event_handlers.get(event, ()):
            handler(**payload)
    for handler in _kernel_subscribers.get(event, ()):
        handler(**payload)
    for handler in _kernel_subscribers.get("*", ()):
        handler(event, payload)
