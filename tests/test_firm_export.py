"""A firm leaves with its data: export, import into a new firm, the same data again.

A firm holding data of every built-in module (the demo seeding: customers,
products, stock, orders in several states, a transport document, an issued
invoice), the district template's custom fields and workflows, a customised
workflow and a logo is exported, imported as a new firm and exported again:
every table's checksum, every file's and the manifest's total are equal.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from flask import url_for
from sqlalchemy import func, select

from distretto.platform.audit import verify
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.platform.files import latest_file, save_file
from distretto.tenants.models import Membership, Tenant
from distretto.tenants.portability import ImportRefused, export_firm, import_firm

MODULES = ["catalog", "orders", "inventory", "invoicing"]
LOGO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _export(tenant: Any) -> tuple[bytes, dict[str, Any]]:
    out = io.BytesIO()
    result = export_firm(tenant, out)
    db.session.commit()
    return out.getvalue(), result.manifest


def _seeded_firm(make_tenant: Any, make_user: Any) -> tuple[Any, Any]:
    from distretto.modules.demo_data import seed_firm
    from distretto.platform import customfields

    tenant = make_tenant(slug="meccanica-valseriana", modules=MODULES)
    owner = make_user(tenant, "owner", email="titolare@meccanica.example")
    make_user(tenant, "staff", email="magazzino@meccanica.example")
    assert seed_firm(tenant, set(MODULES))
    with tenant_context(tenant, owner.id):
        # a module from outside the platform (loaded through EXTRA_MODULES), with its own table
        from distretto.platform.modules import enable_module
        from tests.support.sample.services import create_request

        enable_module("sample")
        create_request("Campionatura flange", "120.50")
        save_file("logo", "logo.png", "image/png", LOGO, replace=True)
        customfields.define("invoice", {"name": "cup_code", "label": "CUP", "type": "text"})
    db.session.commit()
    return tenant, owner


def _tables_equal(first: dict[str, Any], second: dict[str, Any]) -> None:
    assert first["tables"].keys() == second["tables"].keys()
    different = {
        name: (first["tables"][name]["rows"], second["tables"][name]["rows"])
        for name in first["tables"]
        if first["tables"][name]["sha256"] != second["tables"][name]["sha256"]
    }
    assert different == {}
    assert first["files"] == second["files"]
    assert first["checksum"] == second["checksum"]


def _rows(zip_bytes: bytes, table: str) -> list[dict[str, Any]]:
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    return [json.loads(line) for line in archive.read(f"tables/{table}.json").splitlines()]


def test_export_then_import_reproduces_every_row_and_file(
    app: Any, make_tenant: Any, make_user: Any, login: Any
) -> None:
    tenant, owner = _seeded_firm(make_tenant, make_user)
    first_zip, first = _export(tenant)

    counts = {name: t["rows"] for name, t in first["tables"].items()}
    for table in (
        "orders_orders",
        "orders_order_lines",
        "invoicing_invoices",
        "inventory_shipments",
        "inventory_moves",
        "custom_field_definitions",
        "workflow_definitions",
        "workflow_history",
        "numbering_counters",
        "memberships",
        "audit_entries",
        "stored_files",
        "sample_requests",
    ):
        assert counts[table] > 0, table
    registry = app.extensions["distretto.modules"]
    assert first["modules"] == {m: registry.modules[m].version for m in [*MODULES, "sample"]}
    assert len(first["files"]) == 1
    assert first["audit"]["verified"] is True
    archive = zipfile.ZipFile(io.BytesIO(first_zip))
    assert not [n for n in archive.namelist() if b"$argon2" in archive.read(n)]  # no hashes
    members = {row["user_id"]: row["role"] for row in _rows(first_zip, "memberships")}
    assert members == {
        "titolare@meccanica.example": "owner",
        "magazzino@meccanica.example": "staff",
    }

    report = import_firm(io.BytesIO(first_zip), "meccanica-copia", legal_name=None)
    db.session.commit()
    assert report.missing_users == []
    copy = db.session.execute(select(Tenant).where(Tenant.slug == "meccanica-copia")).scalar_one()
    assert copy.legal_name == tenant.legal_name
    assert report.rows == counts

    second_zip, second = _export(copy)
    _tables_equal(first, second)

    with tenant_context(copy):
        assert verify().ok
        logo = latest_file("logo")
        assert logo is not None
        assert logo.data == LOGO
        people = db.session.execute(select(func.count()).select_from(Membership)).scalar()
        assert people == 2


def test_imported_firm_works_and_numbers_follow_on(
    app: Any, make_tenant: Any, make_user: Any, login: Any
) -> None:
    from distretto.modules.catalog.models import Party, Product
    from distretto.modules.orders import services as orders
    from distretto.modules.orders.models import Order

    tenant, owner = _seeded_firm(make_tenant, make_user)
    data, _manifest = _export(tenant)
    import_firm(io.BytesIO(data), "meccanica-copia")
    db.session.commit()
    copy = db.session.execute(select(Tenant).where(Tenant.slug == "meccanica-copia")).scalar_one()

    numbers = {}
    for firm in (tenant, copy):
        with tenant_context(firm, owner.id):
            party = db.session.execute(
                select(Party).where(Party.is_customer.is_(True)).order_by(Party.id).limit(1)
            ).scalar_one()
            product = db.session.execute(select(Product).order_by(Product.id).limit(1)).scalar_one()
            order = orders.create_order(
                "sale",
                {
                    "party_id": party.id,
                    "custom": {"drawing_number": "77-A"},
                    "lines": [{"product_id": product.id, "quantity": "1"}],
                },
            )
            numbers[firm.slug] = order.number
    db.session.commit()
    assert numbers["meccanica-copia"] == numbers["meccanica-valseriana"]

    client = login(owner)
    with tenant_context(copy):
        order_id = db.session.execute(
            select(Order.id).where(Order.kind == "sale").order_by(Order.id).limit(1)
        ).scalar_one()
    with app.test_request_context():
        paths = [
            url_for("orders.sales", tenant="meccanica-copia"),
            url_for("orders.sale_detail", tenant="meccanica-copia", document_id=order_id),
            url_for("invoicing.invoices", tenant="meccanica-copia"),
            url_for("inventory.stock", tenant="meccanica-copia"),
            url_for("inventory.shipments", tenant="meccanica-copia"),
            url_for("settings.workflows", tenant="meccanica-copia"),
            url_for("lifecycle.export", tenant="meccanica-copia"),
        ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path


def _tampered(data: bytes, path: str, change: Any, *, fix_entry: bool = False) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    manifest = json.loads(source.read("manifest.json"))
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == path:
                content = change(content)
                if fix_entry:
                    import hashlib

                    table = path.removeprefix("tables/").removesuffix(".json")
                    manifest["tables"][table]["sha256"] = hashlib.sha256(content).hexdigest()
            if name != "manifest.json":
                target.writestr(name, content)
        target.writestr("manifest.json", json.dumps(manifest))
    return out.getvalue()


@pytest.mark.parametrize("fix_entry", [False, True], ids=["file-changed", "manifest-edited-too"])
def test_tampered_zip_is_refused_and_nothing_written(
    app: Any, make_tenant: Any, make_user: Any, fix_entry: bool
) -> None:
    tenant = make_tenant(modules=["catalog"])
    make_user(tenant, "owner")
    data, _manifest = _export(tenant)

    def richer(content: bytes) -> bytes:
        return content.replace(b'"owner"', b'"viewer"')

    bad = _tampered(data, "tables/memberships.json", richer, fix_entry=fix_entry)
    before = db.session.execute(select(func.count()).select_from(Tenant)).scalar()
    with pytest.raises(ImportRefused, match="altered"):
        import_firm(io.BytesIO(bad), "copia")
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(Tenant)).scalar() == before
    assert db.session.execute(select(Tenant).where(Tenant.slug == "copia")).first() is None


def test_import_refuses_unknown_modules_and_taken_slugs(
    app: Any, make_tenant: Any, make_user: Any
) -> None:
    from distretto.tenants.services import TenantError

    tenant = make_tenant(modules=["catalog"])
    data, _manifest = _export(tenant)
    with pytest.raises(TenantError):
        import_firm(io.BytesIO(data), tenant.slug)
    db.session.rollback()
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(ImportRefused, match="not a firm export"):
        import_firm(io.BytesIO(empty.getvalue()), "altra")
    with pytest.raises(ImportRefused, match="not a zip file"):
        import_firm(io.BytesIO(b"tenant_id,name\n1,x\n"), "altra")


def test_import_into_a_second_installation(
    app: Any, make_tenant: Any, make_user: Any, tmp_path: Any, distretto_database: Any
) -> None:
    """A second installation (its own SQLite database and app) gets the same firm."""
    import flask_migrate

    from distretto.platform.app import create_app
    from distretto.platform.migrations import directory
    from distretto.tenants.services import create_user

    tenant, owner = _seeded_firm(make_tenant, make_user)
    data, first = _export(tenant)
    db.session.remove()

    url = f"sqlite:///{tmp_path / 'second.sqlite3'}"
    config = {
        **distretto_database.config(),
        "DATABASE_URL": url,
        "MIGRATION_DATABASE_URL": url,
        "INSTANCE_PATH": str(tmp_path / "second-instance"),
    }
    second = create_app(config)
    try:
        with second.app_context():
            flask_migrate.upgrade(directory=directory(), revision="heads")
            # The owner has an account there; the warehouse clerk has not.
            create_user("titolare@meccanica.example", "correct-horse-battery", "Titolare")
            db.session.commit()
            with second.test_request_context("/"):
                report = import_firm(io.BytesIO(data), "meccanica", invite_missing=True)
                db.session.commit()
            assert report.missing_users == [("magazzino@meccanica.example", "staff")]
            assert report.invited == ["magazzino@meccanica.example"]
            moved = db.session.execute(
                select(Tenant).where(Tenant.slug == "meccanica")
            ).scalar_one()
            with tenant_context(moved):
                assert verify().ok
            _data, again = _export(moved)
            db.session.remove()
        for name, table in first["tables"].items():
            if name in {"memberships", "invitations", "audit_entries", "audit_heads"}:
                continue  # one member is only invited: rows naming the clerk differ
            if name in {
                "orders_orders",
                "inventory_moves",
                "invoicing_invoices",
                "workflow_history",
            }:
                continue  # created_by / user: the clerk has no account there
            assert again["tables"][name]["sha256"] == table["sha256"], name
        assert again["files"] == first["files"]
    finally:
        with second.app_context():
            db.engine.dispose()


def test_operators_export_and_import_from_the_command_line(
    app: Any, make_tenant: Any, make_user: Any, tmp_path: Any
) -> None:
    tenant = make_tenant(modules=["catalog"])
    make_user(tenant, "owner", email="capo@ditta.example")
    runner = app.test_cli_runner()
    path = tmp_path / "ditta.zip"
    result = runner.invoke(args=["firms", "export", tenant.slug, str(path)])
    assert result.exit_code == 0, result.output
    assert "checksum" in result.output

    result = runner.invoke(args=["firms", "import", str(path), "--slug", "ditta-due"])
    assert result.exit_code == 0, result.output
    assert "imported ditta-due" in result.output

    bad = tmp_path / "bad.zip"
    bad.write_bytes(
        _tampered(path.read_bytes(), "tenant.json", lambda c: c.replace(b"Firm", b"Fxrm"))
    )
    result = runner.invoke(args=["firms", "import", str(bad), "--slug", "ditta-tre"])
    assert result.exit_code == 1
    assert (
        "import refused, nothing written: tenant.json does not match its checksum" in result.output
    )
    db.session.rollback()
    assert db.session.execute(select(Tenant).where(Tenant.slug == "ditta-tre")).first() is None
