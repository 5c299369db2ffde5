"""catalog: customers and suppliers, products and services, VAT rates, payment terms."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l

from distretto.modules.catalog import search as global_search
from distretto.modules.catalog.api import blp as api_bp
from distretto.modules.catalog.models import Contact, Party, PaymentTerms, Product, VatRate
from distretto.modules.catalog.seeds import seed_catalog
from distretto.modules.catalog.views import bp
from distretto.sdk import MenuEntry, Module

module = Module(
    name="catalog",
    version="1.0.0",
    label=_l("Catalog"),
    description=_l("Customers, suppliers, products and services, VAT rates and payment terms."),
    models=(VatRate, PaymentTerms, Party, Contact, Product),
    blueprint=bp,
    api_blueprint=api_bp,
    permissions={
        "catalog.view": ("owner", "admin", "staff", "viewer"),
        "catalog.edit": ("owner", "admin", "staff"),
        "catalog.import": ("owner", "admin"),
        "catalog.settings": ("owner", "admin"),
    },
    menu=(
        MenuEntry(_l("Customers"), "catalog.customers", "catalog.view", order=10),
        MenuEntry(_l("Suppliers"), "catalog.suppliers", "catalog.view", order=11),
        MenuEntry(_l("Products"), "catalog.products", "catalog.view", order=12),
    ),
    on_enable=seed_catalog,
    search=global_search.search,
    migrations=str(Path(__file__).parent / "migrations" / "versions"),
)
