"""The firm-admin webhook pages as the cross-firm sweep sees them (see :mod:`.routes`).

Imported by :mod:`distretto.testing.kernel_routes`. The pages are the kernel's; the
events a subscription follows come from whichever installed module publishes some,
enabled in the firm from ``build``.
"""

from __future__ import annotations

from typing import Any

from distretto.testing.routes import RouteCaseFailed, RouteRequest, SweepFirm, route_case


def _event(firm: SweepFirm) -> str:
    """An event of the catalogue, its module enabled in ``firm``."""
    from distretto.platform import webhooks
    from distretto.platform.modules import enable_module, registry

    for event in webhooks.catalogue(installed=True):
        if event.module is None:
            return event.name
        module = registry.modules[event.module]
        for required in module.requires:
            enable_module(required)
        enable_module(event.module)
        return event.name
    raise RouteCaseFailed("the webhook pages need an installed module that publishes events")


def _subscription(firm: SweepFirm) -> Any:
    from distretto.platform import webhooks

    return webhooks.create_subscription(
        f"https://hooks.example.com/{firm.unique('hook')}",
        [_event(firm)],
        firm.unique("description"),
    )


def _form(firm: SweepFirm, **url: Any) -> RouteRequest:
    return RouteRequest(
        url=url,
        data={
            "url": f"https://hooks.example.com/{firm.unique('hook')}",
            "events": [_event(firm)],
            "description": firm.unique("description"),
            "active": "y",
        },
    )


@route_case("webhooks.index", "GET")
@route_case("webhooks.create", "GET")
def _pages(firm: SweepFirm) -> None:
    _subscription(firm)


@route_case("webhooks.save_new", "POST", expect_ok={303})
def _save_new(firm: SweepFirm) -> RouteRequest:
    return _form(firm)


@route_case("webhooks.detail", "GET")
@route_case("webhooks.edit", "GET")
@route_case("webhooks.toggle", "POST", expect_ok={303})
@route_case("webhooks.delete", "POST", expect_ok={303})
@route_case("webhooks.reveal_secret", "POST", expect_ok={200})
@route_case("webhooks.rotate_secret", "POST", expect_ok={200})
@route_case("webhooks.ping", "POST", expect_ok={303})
def _one(firm: SweepFirm) -> RouteRequest:
    return RouteRequest(url={"subscription_id": _subscription(firm).id})


@route_case("webhooks.update", "POST", expect_ok={303})
def _update(firm: SweepFirm) -> RouteRequest:
    return _form(firm, subscription_id=_subscription(firm).id)


@route_case("webhooks.delivery", "GET")
@route_case("webhooks.redeliver", "POST", expect_ok={303})
def _delivery(firm: SweepFirm) -> RouteRequest:
    from distretto.platform import webhooks

    subscription = _subscription(firm)
    delivery = webhooks.send_ping(subscription)
    return RouteRequest(url={"subscription_id": subscription.id, "delivery_id": delivery.id})
