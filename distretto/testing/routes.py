"""How the cross-firm route sweep exercises every route of the platform.

The sweep proves, route by route, that firms cannot reach each other's data:
for every rule of the app and every method (HEAD and OPTIONS aside) it makes
two firms, A and B, with the same kind of data, signs in as an owner of A (who
holds every permission) and checks that

1. A's address with B's object ids is refused with 404 (when the request
   carries ids: see ``shared_values`` and ``id_fields`` on :class:`RouteCase`);
2. B's address with B's ids is refused with 404;
3. B's rows are unchanged after both (every table with a ``tenant_id``, B's
   ``tenants`` row and the accounts of B's members, read as the database owner,
   past the tenant guard and row-level security);
4. the same request on A's own address and ids succeeds (``expect_ok``, and
   ``verify`` if the case has one), and B's rows are still unchanged afterwards;
5. none of these answers shows B's legal name, its owner's e-mail or any value
   the build made for B with :meth:`SweepFirm.unique`.

It fails when a route is neither covered by a :class:`RouteCase` nor declared
tenant-free, so a new route cannot slip past it. Every rule whose path takes
``<tenant>`` needs a case per method; every other rule needs a
:func:`tenant_free` declaration with a reason.

Declaring cases (a module author's whole job)
---------------------------------------------
Put the declarations in ``route_cases.py`` inside the module's package (next
to ``views.py``); the sweep imports it for every module it finds through the
``distretto.modules`` entry points or the app's ``EXTRA_MODULES``::

    from distretto.testing.routes import RouteRequest, route_case, tenant_free

    @route_case("orders.detail", "GET")
    def order_page(firm):
        order = services.create_order(customer=make_customer(firm), lines=[])
        return {"order_id": order.id}           # URL values; the slug is added for you

    @route_case("orders.add_line", "POST", expect_ok={302}, id_fields={"product_id"})
    def add_line(firm):
        order = services.create_order(...)
        product = services.create_product(code=firm.unique("p"))
        return RouteRequest(url={"order_id": order.id},
                            data={"product_id": product.id, "quantity": "2"})

    tenant_free("orders_public.price_feed", "public price list, no firm data")

Declarations kept elsewhere (another distribution, say) are named under the
entry-point group ``distretto.route_cases`` instead; the entry point names a
module (imported) or a callable (called once with :data:`registry`)::

    [project.entry-points."distretto.route_cases"]
    orders = "distretto_orders_tests.route_cases"

``build`` runs inside ``tenant_context(firm.tenant)`` with ``firm.owner`` as the
actor, once for A and once for B; what it creates is committed before any
request. The sweep enables the endpoint's own module (and what it requires) in
both firms; list any other module a route needs in ``modules``. Forms get a
valid CSRF token added, and every non-GET request an ``X-CSRFToken`` header.
Requests run as a server runs them: each in a fresh application context, with
none of the test's context variables, session or ``g``.

To run the sweep in a module's own test suite (the platform's is
``tests/test_route_isolation.py``), ask for the ``route_case`` parameter and
the ``route_sweep`` fixture, both provided by the pytest plugin::

    def test_route_is_isolated_between_firms(route_case, route_sweep):
        route_sweep(route_case)

and, for the coverage check, ``load_route_cases(app.config["EXTRA_MODULES"]).gaps(app)``.
"""

from __future__ import annotations

import contextvars
import itertools
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from importlib.util import find_spec
from typing import Any

ENTRY_POINT_GROUP = "distretto.route_cases"
MODULES_ENTRY_POINT_GROUP = "distretto.modules"  # distretto.platform.modules.ENTRY_POINT_GROUP
TENANT_ARG = "tenant"  # the URL value carrying the firm's slug (distretto.platform.web)
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
WRITE_OK = frozenset({200, 201, 204, 302, 303})

_unique = itertools.count(1)


class RouteLeak(AssertionError):
    """The sweep found a route that lets one firm reach or change another's data."""


class RouteCaseFailed(AssertionError):
    """A case could not exercise its route as declared (A's own request failed, bad build)."""


@dataclass(frozen=True)
class RouteRequest:
    """One firm's copy of a request, as ``build`` returns it.

    ``url`` holds the URL values other than the firm's slug (the sweep adds
    that); values the rule does not take go to the query string. ``data`` is a
    form body, ``json`` a JSON body, ``query`` extra query-string values,
    ``headers`` extra headers (an API token, say: headers are the caller's
    identity, so the crossed request uses A's).
    """

    url: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] | None = None
    json: Any = None
    query: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepFirm:
    """A firm the sweep built, as ``build`` and ``verify`` receive it.

    ``label`` is ``"A"`` (the signed-in owner's firm) or ``"B"`` (the other one);
    ``tenant`` and ``owner`` are the Tenant and its owner's User.
    """

    label: str
    tenant: Any
    owner: Any
    tenant_id: int
    slug: str
    legal_name: str
    owner_email: str
    marks: list[str] = field(default_factory=list, compare=False, repr=False)

    def unique(self, prefix: str = "x") -> str:
        """A value no other call returns, for the text the build creates (names, titles,
        e-mails, codes). Firm B's are watched for: none may appear in a page that A is
        shown, so a list that leaks B's rows into A's page fails the sweep."""
        value = f"{prefix}-{self.label.lower()}{self.tenant_id}-{next(_unique)}"
        self.marks.append(value)
        return value

    def revealed_in(self, body: str) -> list[str]:
        """Which of this firm's telltale values ``body`` contains."""
        telltales = [self.legal_name, self.owner_email, *self.marks]
        return [value for value in telltales if value and value in body]


Build = Callable[[SweepFirm], "RouteRequest | Mapping[str, Any] | None"]
Verify = Callable[[SweepFirm, RouteRequest, Any], None]


@dataclass(frozen=True)
class RouteCase:
    """How to exercise one tenant route (``endpoint`` + ``method``).

    ``build(firm)`` creates what the route acts on in ``firm`` and returns a
    :class:`RouteRequest`, a mapping of URL values, or ``None`` (no values).

    ``expect_ok`` are the statuses that count as success for A's own request;
    by default 200 for GET and 200/201/204/302/303 otherwise. Narrow it when the
    route answers failures with a redirect too (``{302}``).

    ``shared_values`` names URL values that are not object ids (a year, a file
    name) and so may be equal in A and B; every other URL value counts as an id
    and must differ between the firms (if a firm numbers its objects itself,
    build a decoy first in firm B so that B's numbers run ahead of A's).
    ``id_fields`` names form, JSON (top level) or query fields that carry object
    ids: the crossed request takes those from B and the rest from A. The crossed
    request (A's slug, B's ids) is sent only when the request carries ids.

    ``expect_denied`` are the statuses that count as a refusal of the crossed
    request: 404 unless a form refuses a foreign id in ``id_fields`` as invalid
    input (400). ``verify(firm_a, request_a, response)``, if given, runs in A's
    tenant context after A's own request to check that it did what it should.
    ``modules`` are modules to enable in both firms besides the endpoint's own.
    """

    endpoint: str
    method: str = "GET"
    build: Build | None = None
    expect_ok: frozenset[int] | None = None
    shared_values: frozenset[str] = frozenset()
    id_fields: frozenset[str] = frozenset()
    expect_denied: frozenset[int] = frozenset({404})
    verify: Verify | None = None
    modules: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        for name in ("expect_ok", "shared_values", "id_fields", "expect_denied"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, frozenset):
                object.__setattr__(self, name, frozenset(value))
        object.__setattr__(self, "modules", tuple(self.modules))
        if self.method in IGNORED_METHODS:
            raise ValueError(f"{self.endpoint}: the sweep does not exercise {self.method}")
        if not self.expect_denied or not self.expect_denied <= {400, 404}:
            raise ValueError(f"{self.endpoint}: expect_denied may hold 404 and 400 only")

    @property
    def key(self) -> tuple[str, str]:
        return (self.endpoint, self.method)

    @property
    def id(self) -> str:
        return f"{self.endpoint}:{self.method}"

    @property
    def ok_statuses(self) -> frozenset[int]:
        if self.expect_ok is not None:
            return self.expect_ok
        return frozenset({200}) if self.method == "GET" else WRITE_OK


@dataclass(frozen=True)
class TenantFree:
    """A route that takes no firm, and why (``methods=None``: all of them)."""

    endpoint: str
    reason: str
    methods: frozenset[str] | None = None

    def covers(self, method: str) -> bool:
        return self.methods is None or method in self.methods


@dataclass(frozen=True)
class Gap:
    """A route the sweep cannot vouch for, or a declaration naming no route."""

    endpoint: str
    method: str
    rule: str
    problem: str

    def __str__(self) -> str:
        return f"{self.method} {self.rule} ({self.endpoint}): {self.problem}"


class RouteRegistry:
    """Route cases and tenant-free declarations, keyed by endpoint and method."""

    def __init__(self) -> None:
        self._cases: dict[tuple[str, str], RouteCase] = {}
        self._tenant_free: dict[str, TenantFree] = {}

    def add(self, case: RouteCase) -> RouteCase:
        if case.key in self._cases:
            raise ValueError(
                f"a route case for {case.method} {case.endpoint} is already registered"
            )
        self._cases[case.key] = case
        return case

    def case(self, endpoint: str, method: str = "GET", **options: Any) -> Callable[[Build], Build]:
        """Decorator form of :meth:`add`: the decorated function is ``build``."""

        def decorator(build: Build) -> Build:
            self.add(RouteCase(endpoint, method, build=build, **options))
            return build

        return decorator

    def tenant_free(
        self, endpoint: str, reason: str, methods: Iterable[str] | None = None
    ) -> TenantFree:
        if not reason or not reason.strip():
            raise ValueError(f"say why {endpoint} takes no firm")
        if endpoint in self._tenant_free:
            raise ValueError(f"{endpoint} is already declared tenant-free")
        declared = TenantFree(
            endpoint, reason.strip(), frozenset(m.upper() for m in methods) if methods else None
        )
        self._tenant_free[endpoint] = declared
        return declared

    def cases(self) -> list[RouteCase]:
        """Every case, in a stable order (parametrize ids must match across xdist workers)."""
        return [self._cases[key] for key in sorted(self._cases)]

    def get(self, endpoint: str, method: str) -> RouteCase | None:
        return self._cases.get((endpoint, method.upper()))

    def tenant_free_declarations(self) -> list[TenantFree]:
        return [self._tenant_free[name] for name in sorted(self._tenant_free)]

    def copy(self) -> RouteRegistry:
        other = RouteRegistry()
        other._cases = dict(self._cases)
        other._tenant_free = dict(self._tenant_free)
        return other

    def gaps(self, app: Any) -> list[Gap]:
        """What keeps the sweep from covering ``app``: empty when every route is covered.

        A ``<tenant>`` route needs a case per method; any other route a
        tenant-free declaration; a declaration must name a route of the app.
        """
        gaps: list[Gap] = []
        seen_methods: dict[str, set[str]] = {}
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
            takes_firm = TENANT_ARG in rule.arguments
            free = self._tenant_free.get(rule.endpoint)
            for method in sorted((rule.methods or set()) - IGNORED_METHODS):
                seen_methods.setdefault(rule.endpoint, set()).add(method)
                case = self._cases.get((rule.endpoint, method))
                problems = []
                if takes_firm and free is not None:
                    problems.append(
                        f"takes <tenant>, so it cannot be tenant-free: drop "
                        f"tenant_free({rule.endpoint!r}, ...)"
                    )
                if takes_firm and case is None:
                    problems.append(
                        f"not swept: declare how to exercise it with @route_case("
                        f"{rule.endpoint!r}, {method!r}) in route_cases.py of its module's "
                        "package (see distretto.testing.routes)"
                    )
                if not takes_firm and case is not None:
                    problems.append("has a RouteCase but takes no <tenant>: declare it tenant-free")
                if not takes_firm and (free is None or not free.covers(method)):
                    problems.append(
                        f"takes no firm and is not declared tenant-free: "
                        f"tenant_free({rule.endpoint!r}, reason=...) if it shows no firm's "
                        "data, else move it under a tenant blueprint"
                    )
                gaps.extend(Gap(rule.endpoint, method, rule.rule, p) for p in problems)
        for case in self._cases.values():
            if case.method not in seen_methods.get(case.endpoint, set()):
                gaps.append(
                    Gap(case.endpoint, case.method, "-", "RouteCase names no route of the app")
                )
        for declared in self._tenant_free.values():
            methods = seen_methods.get(declared.endpoint)
            stale = (
                methods is None
                if declared.methods is None
                else not declared.methods <= (methods or set())
            )
            if stale:
                gaps.append(
                    Gap(declared.endpoint, "*", "-", "declared tenant-free but no such route")
                )
        return gaps


#: The registry the sweep reads; the functions below write to it.
registry = RouteRegistry()


def route_case(endpoint: str, method: str = "GET", **options: Any) -> Callable[[Build], Build]:
    """Register the decorated function as the ``build`` of a :class:`RouteCase`.

    ``options`` are the other fields of :class:`RouteCase` (``expect_ok``,
    ``shared_values``, ``id_fields``, ``expect_denied``, ``verify``, ``modules``).
    Stack the decorator to use one build for several methods.
    """
    return registry.case(endpoint, method, **options)


def register_route_case(case: RouteCase) -> RouteCase:
    """Register a ready-made :class:`RouteCase` (e.g. one needing no ``build``)."""
    return registry.add(case)


def tenant_free(endpoint: str, reason: str, methods: Iterable[str] | None = None) -> TenantFree:
    """Declare that ``endpoint`` takes no firm (sign-in, health, the operator console...).

    ``reason`` is required and shown to whoever reviews the list; the
    declaration covers all the endpoint's methods unless ``methods`` says which.
    Only routes without ``<tenant>`` can be tenant-free.
    """
    return registry.tenant_free(endpoint, reason, methods)


_loaded_entry_points: set[str] = set()


def load_route_cases(extra_modules: Iterable[Any] = ()) -> RouteRegistry:
    """Import every declaration of route cases, and return :data:`registry`.

    Three sources, all imported once: the kernel's own
    (:mod:`distretto.testing.kernel_routes`); the ``route_cases`` module of every
    module package found by the ``distretto.modules`` entry points and in
    ``extra_modules`` (the app's ``EXTRA_MODULES``: ``"package.module:object"``
    strings or Module objects); and every ``distretto.route_cases`` entry point.
    A declaration module that fails to import fails the sweep, naming it: a
    module whose routes went silently unswept is what this prevents.
    """
    import distretto.testing.kernel_routes  # noqa: F401 - registers on import

    sources = [ep.value for ep in entry_points(group=MODULES_ENTRY_POINT_GROUP)]
    sources.extend(extra_modules)
    for source in sources:
        package = _package_of(source)
        if package:
            _import_route_cases(f"{package}.route_cases")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        key = f"{ep.name}={ep.value}"
        if key in _loaded_entry_points:
            continue
        try:
            loaded = ep.load()
            if callable(loaded):
                loaded(registry)
        except Exception as exc:
            raise RuntimeError(
                f"route cases {ep.name!r} ({ep.value}) could not be loaded: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        _loaded_entry_points.add(key)
    return registry


def _package_of(source: Any) -> str | None:
    """The package a module is declared in (``pkg.mod:obj`` -> ``pkg``, or ``pkg.mod``
    when that is itself a package), or None when the module cannot be imported: the
    platform reports a broken module and serves none of its routes."""
    if isinstance(source, str):
        name = source.split(":", 1)[0].strip()
    else:
        blueprint = getattr(source, "blueprint", None) or getattr(source, "api_blueprint", None)
        name = getattr(blueprint, "import_name", "")
    if not name:
        return None
    try:
        imported = import_module(name)
    except Exception:  # noqa: BLE001 - a broken module has no routes to sweep
        return None
    return name if hasattr(imported, "__path__") else name.rpartition(".")[0] or None


def _import_route_cases(name: str) -> None:
    if name in sys.modules:
        return
    try:
        found = find_spec(name)
    except ModuleNotFoundError:
        found = None
    if found is None:
        return
    try:
        import_module(name)
    except Exception as exc:
        raise RuntimeError(
            f"route cases {name} could not be loaded: {type(exc).__name__}: {exc}"
        ) from exc


# --- running a case -----------------------------------------------------------


_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)


def response_text(response: Any) -> str:
    """What the sweep searches for telltales in an answer: its body as text (bytes that
    are not UTF-8, as in a PDF, replaced) and, for a PDF, its inflated page content too,
    where the core fonts' text is written as plain strings."""
    data = response.get_data()
    if data.startswith(b"%PDF-"):
        inflated = []
        for stream in _PDF_STREAM.findall(data):
            try:
                inflated.append(zlib.decompress(stream))
            except zlib.error:
                continue
        data = b"\n".join([data, *inflated])
    return data.decode("utf-8", errors="replace")


def _as_request(built: Any, case: RouteCase) -> RouteRequest:
    if built is None:
        return RouteRequest()
    if isinstance(built, RouteRequest):
        return built
    if isinstance(built, Mapping):
        return RouteRequest(url=dict(built))
    raise RouteCaseFailed(
        f"{case.id}: build returned {type(built).__name__}; "
        "return a RouteRequest, a mapping of URL values or None"
    )


def _pick(ids_from: Any, rest_from: Any, id_fields: frozenset[str]) -> Any:
    if not isinstance(rest_from, Mapping) and not isinstance(ids_from, Mapping):
        return rest_from
    merged = dict(rest_from or {})
    for name in id_fields:
        if isinstance(ids_from, Mapping) and name in ids_from:
            merged[name] = ids_from[name]
    return merged


@dataclass(frozen=True)
class _SignIn:
    """What the ``login`` fixture reads of a user, detached from the test's session."""

    email: str


class RouteSweep:
    """Runs the checks of one :class:`RouteCase`; the ``route_sweep`` fixture is one.

    Calling it returns nothing and raises :class:`RouteLeak` when isolation
    fails, :class:`RouteCaseFailed` when the case cannot do what it declares.
    """

    def __init__(
        self,
        app: Any,
        owner_engine: Any,
        make_tenant: Callable[..., Any],
        make_user: Callable[..., Any],
        login: Callable[..., Any],
    ) -> None:
        self.app = app
        self.owner_engine = owner_engine
        self.make_tenant = make_tenant
        self.make_user = make_user
        self.login = login
        self._tables: list[str] | None = None

    def __call__(self, case: RouteCase) -> None:
        rules = [r for r in self.app.url_map.iter_rules() if r.endpoint == case.endpoint]
        if not any(TENANT_ARG in rule.arguments for rule in rules):
            raise RouteCaseFailed(f"{case.id}: the app has no <tenant> route {case.endpoint!r}")
        modules = self._modules_for(case)
        firm_a = self._make_firm("A", modules)
        firm_b = self._make_firm("B", modules)
        request_b = self._build(case, firm_b)
        request_a = self._build(case, firm_a)
        crossed = self._crossed(case, request_a, request_b)
        self._exercise(case, firm_a, firm_b, request_a, request_b, crossed)

    def _on_server(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function`` (which sends requests) as a server would serve them.

        The test's own transaction is ended first (an open SQLite read would pin an
        old snapshot and block the request's write), and the call runs in an empty
        set of context variables with an application context of its own: no ``g``,
        database session, tenant or actor of the test's leaks into the request.
        """
        from distretto.platform.db import db

        if db.session().in_transaction():
            db.session.commit()

        def isolated() -> Any:
            with self.app.app_context():
                return function(*args)

        return contextvars.Context().run(isolated)

    def _exercise(
        self,
        case: RouteCase,
        firm_a: SweepFirm,
        firm_b: SweepFirm,
        request_a: RouteRequest,
        request_b: RouteRequest,
        crossed: RouteRequest | None,
    ) -> None:
        from distretto.testing.plugin import csrf_token

        on_server = self._on_server
        client = on_server(self.login, _SignIn(firm_a.owner_email))
        token = on_server(csrf_token, client, f"/{firm_a.slug}/") if case.method != "GET" else ""
        before = self._snapshot(firm_b)
        if not before:
            raise RouteCaseFailed(f"{case.id}: firm B has no rows to watch")

        if crossed is not None:
            response = on_server(self._send, client, case, firm_a.slug, crossed, token, request_a)
            if response.status_code not in case.expect_denied:
                raise RouteLeak(
                    f"{case.method} {response.request.path} as firm A's owner, with firm B's "
                    f"ids ({self._describe_ids(case, crossed)}): got {response.status_code}, "
                    f"expected {sorted(case.expect_denied)}"
                )
            self._assert_not_revealed(firm_b, response, case, "A's address with B's ids")
            self._assert_unchanged(firm_b, before, case, "A's address with B's ids")
        response = on_server(self._send, client, case, firm_b.slug, request_b, token, request_a)
        if response.status_code != 404:
            raise RouteLeak(
                f"{case.method} {response.request.path} (firm B's address) as firm A's owner: "
                f"got {response.status_code}, expected 404"
            )
        self._assert_not_revealed(firm_b, response, case, "B's address")
        self._assert_unchanged(firm_b, before, case, "B's address")

        response = on_server(self._send, client, case, firm_a.slug, request_a, token, request_a)
        if response.status_code not in case.ok_statuses:
            body = " ".join(response.get_data(as_text=True).split())[:300]
            raise RouteCaseFailed(
                f"{case.method} {response.request.path} as firm A's owner on A's own data: got "
                f"{response.status_code}, expected {sorted(case.ok_statuses)}. Page: {body}"
            )
        self._assert_not_revealed(firm_b, response, case, "A's own request")
        self._assert_unchanged(firm_b, before, case, "A's own request")
        if case.verify is not None:
            self._verify(case, firm_a, request_a, response)

    def _verify(
        self, case: RouteCase, firm: SweepFirm, request: RouteRequest, response: Any
    ) -> None:
        from distretto.platform.context import tenant_context
        from distretto.platform.db import db

        assert case.verify is not None
        owner_id = firm.owner.id
        db.session.rollback()  # read what the request committed, in a fresh transaction
        try:
            with tenant_context(firm.tenant, owner_id):
                case.verify(firm, request, response)
        except AssertionError as exc:
            raise RouteCaseFailed(
                f"{case.method} {response.request.path}: answered {response.status_code} "
                f"but did not do its work ({getattr(case.verify, '__name__', 'verify')}): {exc}"
            ) from exc
        finally:
            db.session.rollback()

    def _assert_not_revealed(
        self, firm: SweepFirm, response: Any, case: RouteCase, after_what: str
    ) -> None:
        found = firm.revealed_in(response_text(response))
        if found:
            raise RouteLeak(
                f"{case.method} {response.request.path} ({after_what}) showed firm B's "
                f"{', '.join(map(repr, found))}"
            )

    # -- firms and requests --

    def _modules_for(self, case: RouteCase) -> list[str]:
        names = list(case.modules)
        modules = self.app.extensions.get("distretto.modules")
        own = modules.module_of_endpoint(case.endpoint) if modules is not None else None
        if own is not None and own.name not in names:
            names.insert(0, own.name)
        return names

    def _make_firm(self, label: str, modules: list[str]) -> SweepFirm:
        tenant = self.make_tenant(modules=modules or None)
        owner = self.make_user(tenant, "owner")
        return SweepFirm(
            label=label,
            tenant=tenant,
            owner=owner,
            tenant_id=int(tenant.id),
            slug=str(tenant.slug),
            legal_name=str(tenant.legal_name),
            owner_email=str(owner.email),
        )

    def _build(self, case: RouteCase, firm: SweepFirm) -> RouteRequest:
        from distretto.platform.context import tenant_context
        from distretto.platform.db import db

        if case.build is None:
            return RouteRequest()
        with tenant_context(firm.tenant, firm.owner.id):
            built = _as_request(case.build(firm), case)
            db.session.commit()
        return built

    def _crossed(self, case: RouteCase, own: RouteRequest, foreign: RouteRequest) -> Any:
        """A's request carrying B's ids, or None when the request carries no ids."""
        url_ids = set(own.url) | set(foreign.url)
        url_ids -= case.shared_values
        field_ids = {
            name
            for part in (own.data, own.json, own.query, foreign.data, foreign.json, foreign.query)
            if isinstance(part, Mapping)
            for name in part
            if name in case.id_fields
        }
        for name in sorted(url_ids):
            if own.url.get(name) == foreign.url.get(name):
                raise RouteCaseFailed(
                    f"{case.id}: build gave firms A and B the same {name}={own.url.get(name)!r}, "
                    "so the sweep cannot tell their objects apart; list it in shared_values if "
                    "it is not an object id, or make B's differ (build a decoy first in firm B)"
                )
        if not url_ids and not field_ids:
            return None
        return RouteRequest(
            url={**own.url, **{k: v for k, v in foreign.url.items() if k in url_ids}},
            data=_pick(foreign.data, own.data, case.id_fields),
            json=_pick(foreign.json, own.json, case.id_fields),
            query=_pick(foreign.query, own.query, case.id_fields) or {},
            headers=own.headers,
        )

    def _describe_ids(self, case: RouteCase, crossed: RouteRequest) -> str:
        shown = {k: v for k, v in crossed.url.items() if k not in case.shared_values}
        for part in (crossed.data, crossed.json, crossed.query):
            if isinstance(part, Mapping):
                shown.update({k: v for k, v in part.items() if k in case.id_fields})
        return ", ".join(f"{k}={v!r}" for k, v in sorted(shown.items()))

    def _send(
        self,
        client: Any,
        case: RouteCase,
        slug: str,
        request: RouteRequest,
        token: str,
        identity: RouteRequest,
    ) -> Any:
        from flask import url_for

        with self.app.test_request_context():  # on the request thread: a context of its own
            path = url_for(case.endpoint, _method=case.method, **{**request.url, TENANT_ARG: slug})
        headers = dict(identity.headers)
        data = dict(request.data) if request.data is not None else None
        if case.method != "GET":
            headers.setdefault("X-CSRFToken", token)
            if request.json is None:
                data = {**(data or {}), "csrf_token": token}
        return client.open(
            path,
            method=case.method,
            data=data,
            json=request.json,
            query_string=dict(request.query) or None,
            headers=headers,
        )

    # -- watching firm B's rows --

    def _tenant_tables(self) -> list[str]:
        """Every table with a ``tenant_id`` column, as the database has them (so a
        module's tables count even if no model of theirs is imported)."""
        if self._tables is None:
            from sqlalchemy import inspect

            inspector = inspect(self.owner_engine)
            self._tables = [
                name
                for name in sorted(inspector.get_table_names())
                if any(c["name"] == "tenant_id" for c in inspector.get_columns(name))
            ]
        return self._tables

    def _snapshot(self, firm: SweepFirm) -> dict[str, list[str]]:
        """B's rows as the database owner sees them (no tenant guard, no RLS)."""
        from sqlalchemy import text

        rows: dict[str, list[str]] = {}
        queries = [
            (name, f'SELECT * FROM "{name}" WHERE tenant_id = :t')  # noqa: S608 - catalogue names
            for name in self._tenant_tables()
        ]
        queries.append(("tenants", "SELECT * FROM tenants WHERE id = :t"))
        queries.append(
            (
                "users (B's members)",
                "SELECT * FROM users WHERE id IN "
                "(SELECT user_id FROM memberships WHERE tenant_id = :t)",
            )
        )
        with self.owner_engine.connect() as connection:
            for label, sql in queries:
                found = sorted(
                    repr(tuple(r)) for r in connection.execute(text(sql), {"t": firm.tenant_id})
                )
                if found:
                    rows[label] = found
        return rows

    def _assert_unchanged(
        self, firm: SweepFirm, before: dict[str, list[str]], case: RouteCase, after_what: str
    ) -> None:
        now = self._snapshot(firm)
        if now == before:
            return
        changed = sorted(
            name for name in set(before) | set(now) if before.get(name) != now.get(name)
        )
        raise RouteLeak(
            f"{case.method} {case.endpoint}: firm B's rows changed after {after_what} "
            f"(tables: {', '.join(changed)})"
        )


def parametrize_route_cases(metafunc: Any, argname: str = "route_case") -> None:
    """Parametrize ``argname`` over every registered case (the plugin's hook calls this).

    Modules loaded through the ``distretto_extra_modules`` ini option count too.
    """
    try:
        extra = metafunc.config.getini("distretto_extra_modules")
    except ValueError:  # an older plugin without the option
        extra = []
    cases = load_route_cases(extra).cases()
    metafunc.parametrize(argname, cases, ids=[case.id for case in cases])
