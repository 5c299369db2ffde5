"""Catalog pages: forms refusing bad records, archive and delete, CSV import and export."""

from __future__ import annotations

import html
import io
from decimal import Decimal

from sqlalchemy import func, select

from distretto.modules.catalog import services as catalog
from distretto.modules.catalog.models import Party, Product
from distretto.modules.orders import services as orders
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from distretto.testing.plugin import csrf_token


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _count(tenant, model) -> int:
    with tenant_context(tenant):
        return db.session.execute(select(func.count(model.id))).scalar_one()


def _rate_id(tenant, code: str = "22") -> int:
    with tenant_context(tenant):
        return catalog.vat_rate_by_code(code).id


# --- forms ---------------------------------------------------------------------------------


def test_party_form_refuses_bad_records_with_field_messages(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=["catalog"])
    page = f"/{tenant.slug}/catalog/parties/new"
    token = csrf_token(client, page)
    base = {
        "csrf_token": token,
        "legal_name": "Rossi S.r.l.",
        "is_customer": "y",
        "vat_number": "03777120167",
        "payment_terms_id": "",
        "vat_rate_id": "",
    }
    cases = [
        ({"vat_number": "03777120168"}, "03777120168 is not a valid Italian VAT number."),
        (
            {"vat_number": "", "tax_code": "RSSMRA80A01H501X"},
            "RSSMRA80A01H501X is not a valid codice fiscale.",
        ),
        ({"vat_number": ""}, "An Italian party needs a VAT number or a codice fiscale."),
        ({"is_customer": ""}, "Mark the record as customer, supplier or both."),
        ({"postcode": "2410"}, "An Italian postcode (CAP) has 5 digits."),
        ({"province": "Bergamo"}, "Use the two-letter province code (e.g. BG)."),
        ({"sdi_code": "123"}, "The SDI recipient code has 7 letters or digits."),
        ({"pec": "not-an-address"}, "Not a valid email address."),
        ({"legal_name": ""}, "Legal name"),
        ({"payment_terms_id": "999999"}, "Unknown payment terms."),
        ({"code": "has space"}, "String does not match expected pattern."),
        ({"code": "C" * 21}, "Longer than maximum length 20."),
    ]
    for change, message in cases:
        response = client.post(page, data={**base, **change})
        assert response.status_code == 400, change
        assert message in text_of(response), (change, message)
    assert _count(tenant, Party) == 0

    assert client.post(page, data={**base, "code": "C-ROSSI"}).status_code == 302
    duplicate = client.post(page, data={**base, "code": "C-ROSSI", "legal_name": "Altro"})
    assert duplicate.status_code == 400
    assert "The code C-ROSSI is already used." in text_of(duplicate)
    # a foreign party needs no Italian identifiers
    foreign = client.post(
        page,
        data={
            **base,
            "legal_name": "Müller GmbH",
            "vat_number": "DE123456789",
            "country": "de",
            "postcode": "80331",
        },
    )
    assert foreign.status_code == 302, text_of(foreign)[-2000:]
    assert _count(tenant, Party) == 2


def test_product_form_refuses_negative_or_absurd_prices(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=["catalog"])
    page = f"/{tenant.slug}/catalog/products/new"
    token = csrf_token(client, page)
    base = {
        "csrf_token": token,
        "code": "VITE-M6",
        "description": "Vite M6",
        "unit": "pz",
        "sale_price": "0,12",
        "purchase_cost": "0,05",
        "vat_rate_id": str(_rate_id(tenant)),
        "stocked": "y",
        "reorder_point": "100",
    }
    for change, field in (
        ({"sale_price": "-1"}, "sale_price"),
        ({"purchase_cost": "-0,01"}, "purchase_cost"),
        ({"reorder_point": "-5"}, "reorder_point"),
        ({"sale_price": "dieci"}, "sale_price"),
        ({"sale_price": "1e15"}, "sale_price"),
        ({"sale_price": "NaN"}, "sale_price"),
        ({"reorder_point": "1e14"}, "reorder_point"),
        ({"vat_rate_id": "999999"}, "vat_rate_id"),
        ({"code": ""}, "code"),
        ({"description": ""}, "description"),
    ):
        response = client.post(page, data={**base, **change})
        assert response.status_code == 400, change
        assert f'id="{field}-error"' in text_of(response), change
    assert _count(tenant, Product) == 0
    response = client.post(page, data={**base, "sale_price": "1.234,5678"})
    assert response.status_code == 302
    with tenant_context(tenant):
        product = db.session.execute(select(Product)).scalar_one()
        assert product.sale_price == Decimal("1234.5678")
    duplicate = client.post(page, data=base)
    assert duplicate.status_code == 400
    assert "The code VITE-M6 is already used." in text_of(duplicate)


def test_a_used_product_cannot_be_deleted_only_archived(tenant_client):
    client, tenant, _user = tenant_client("staff", modules=["catalog", "orders"])
    with tenant_context(tenant):
        rate = catalog.vat_rate_by_code("22")
        customer = catalog.create_party(
            {"legal_name": "Cliente S.r.l.", "is_customer": True, "vat_number": "03777120167"}
        )
        used = catalog.create_product(
            {"code": "USED-1", "description": "Usato", "vat_rate_id": rate.id}
        )
        unused = catalog.create_product(
            {"code": "FREE-1", "description": "Mai usato", "vat_rate_id": rate.id}
        )
        orders.create_order(
            "sale", {"party_id": customer.id, "lines": [{"product_id": used.id, "quantity": "1"}]}
        )
        db.session.commit()
        used_id, unused_id, customer_id = used.id, unused.id, customer.id
    base = f"/{tenant.slug}/catalog"

    detail = f"{base}/products/{used_id}"
    response = client.post(detail + "/delete", data={"csrf_token": csrf_token(client, detail)})
    assert response.status_code == 303
    assert "USED-1 is used by documents: archive it instead." in text_of(
        client.get(response.headers["Location"])
    )
    party_detail = f"{base}/parties/{customer_id}"
    response = client.post(
        party_detail + "/delete", data={"csrf_token": csrf_token(client, party_detail)}
    )
    assert response.status_code == 303
    assert _count(tenant, Product) == 2
    assert _count(tenant, Party) == 1

    response = client.post(detail + "/archive", data={"csrf_token": csrf_token(client, detail)})
    assert response.status_code == 302
    assert "USED-1" not in text_of(client.get(f"{base}/products"))
    assert "USED-1" in text_of(client.get(f"{base}/products?archived=1"))

    free = f"{base}/products/{unused_id}"
    response = client.post(free + "/delete", data={"csrf_token": csrf_token(client, free)})
    assert response.status_code == 302
    assert client.get(free).status_code == 404
    assert _count(tenant, Product) == 1


def test_viewer_cannot_change_the_catalog(tenant_client, make_user, login):
    _client, tenant, _owner = tenant_client("owner", modules=["catalog"])
    viewer = login(make_user(tenant, "viewer"))
    base = f"/{tenant.slug}/catalog"
    assert viewer.get(f"{base}/products").status_code == 200
    assert viewer.get(f"{base}/products/new").status_code == 403
    assert viewer.get(f"{base}/import").status_code == 403
    token = csrf_token(viewer, f"{base}/products")
    response = viewer.post(f"{base}/products/new", data={"csrf_token": token, "code": "X"})
    assert response.status_code == 403
    assert _count(tenant, Product) == 0


# --- CSV import and export ---------------------------------------------------------------------


def _upload(client, tenant, kind: str, data: bytes, confirm: bool = False):
    page = f"/{tenant.slug}/catalog/import"
    form = {
        "csrf_token": csrf_token(client, page),
        "kind": kind,
        "file": (io.BytesIO(data), f"{kind}.csv"),
    }
    if confirm:
        form["confirm"] = "1"
    return client.post(page, data=form, content_type="multipart/form-data")


def _row_problems(response) -> dict[str, list[str]]:
    """Row number -> its problems, read from the preview table."""
    import re

    text = response.get_data(as_text=True)
    rows = {}
    for number, problems in re.findall(
        r'<tr class="table-danger">\s*<td>(\d+)</td>.*?<td>((?:<div>.*?</div>)*)</td>\s*</tr>',
        text,
        re.S,
    ):
        rows[number] = [html.unescape(p) for p in re.findall(r"<div>(.*?)</div>", problems)]
    return rows


def test_csv_import_refuses_a_bad_file_naming_each_row_and_imports_nothing(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog"])
    with tenant_context(tenant):
        catalog.create_party(
            {
                "code": "C-OLD",
                "legal_name": "Già presente",
                "is_customer": True,
                "vat_number": "03777120167",
            }
        )
        db.session.commit()
    content = (
        "code;legal_name;vat_number;city;vat_code;payment_terms\n"
        "C-1;Buono S.r.l.;03777120167;Bergamo;22;BB30\n"  # row 2: fine
        "C-2;Partita sbagliata;12345678901;Lecco;;\n"  # row 3: bad VAT number
        "C-3;Aliquota ignota;03777120167;Como;23;\n"  # row 4: unknown VAT code
        "C-1;Doppione;03777120167;Brescia;;\n"  # row 5: code twice in the file
        "C-OLD;Esiste già;03777120167;;;\n"  # row 6: code already in the catalog
        "C-6;Termini ignoti;03777120167;;;XYZ\n"  # row 7: unknown payment terms
    ).encode()
    response = _upload(client, tenant, "customers", content, confirm=True)
    assert response.status_code == 400
    problems = _row_problems(response)
    assert set(problems) == {"3", "4", "5", "6", "7"}
    assert "12345678901 is not a valid Italian VAT number." in " ".join(problems["3"])
    assert "vat_code: unknown VAT code 23." in problems["4"]
    assert "code: C-1 appears twice in the file." in problems["5"]
    assert "code: C-OLD already exists." in problems["6"]
    assert "payment_terms: unknown payment terms XYZ." in problems["7"]
    assert "Import 6 rows" not in text_of(response)
    assert _count(tenant, Party) == 1

    missing = _upload(client, tenant, "products", b"code;price\nA;1\n", confirm=True)
    assert missing.status_code == 400
    assert "Missing columns: description" in text_of(missing)
    empty = _upload(client, tenant, "products", b"code;description;vat_code\n", confirm=True)
    assert empty.status_code == 400
    assert "The file has no rows." in text_of(empty)
    bad_products = (
        b"code;description;sale_price;vat_code\n"
        b"P-1;Vite;1,50;22\n"
        b"P-2;Prezzo negativo;-3;22\n"
        b"P-3;Senza IVA;2;\n"
        b"P 4;Codice con spazio;2;22\n"
    )
    response = _upload(client, tenant, "products", bad_products, confirm=True)
    assert response.status_code == 400
    assert set(_row_problems(response)) == {"3", "4", "5"}
    assert "vat_code: required." in _row_problems(response)["4"]
    assert _count(tenant, Product) == 0


def test_csv_import_reads_semicolons_commas_italian_decimals_and_cp1252(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog"])
    semicolons = (
        "Code;Description;Unit;Sale_price;Purchase_cost;VAT_code;Stocked;Reorder_point\n"
        "VIT-6;Viti, dadi, rondelle, bulloni e minuteria assortita;pz;1.234,50;0,75;22;sì;10\n"
        "SRV-1;Consulenza tecnica, sopralluogo, relazione;h;80;0;22;no;0\n"
        "LIB-1;Libro: «Tornitura» (città);pz;19,90;12;4;si;0\n"
    ).encode("cp1252")
    preview = _upload(client, tenant, "products", semicolons)
    assert preview.status_code == 200, text_of(preview)[-3000:]
    assert "Import 3 rows" in text_of(preview)
    response = _upload(client, tenant, "products", semicolons, confirm=True)
    assert response.status_code == 302, text_of(response)[-3000:]
    commas = (
        "code,legal_name,vat_number,street,postcode,city,province,sdi_code\n"
        '"F-1","Fonderia Bergamasca, S.p.A.",03777120167,"Via dell\'Industria, 4",24100,'
        "Bergamo,BG,ABC1234\n"
        "F-2,Società Cooperativa Tessile,IT03777120167,,,,,\n"
    ).encode("utf-8-sig")
    response = _upload(client, tenant, "suppliers", commas, confirm=True)
    assert response.status_code == 302, text_of(response)[-3000:]
    # the separator is the header's, however many commas the descriptions hold
    many_commas = (
        b"code;description;vat_code\n"
        b"MIN-1;Viti, dadi, rondelle, bulloni, chiodi;22\n"
        b"MIN-2;Rivetti, graffe, fascette, tasselli, ganci;22\n"
    )
    response = _upload(client, tenant, "products", many_commas, confirm=True)
    assert response.status_code == 302, text_of(response)[-3000:]
    with tenant_context(tenant):
        products = {p.code: p for p in db.session.execute(select(Product)).scalars()}
        assert products["MIN-2"].description == "Rivetti, graffe, fascette, tasselli, ganci"
        assert products["VIT-6"].sale_price == Decimal("1234.5")
        assert products["VIT-6"].purchase_cost == Decimal("0.75")
        assert products["VIT-6"].reorder_point == Decimal("10")
        assert products["SRV-1"].stocked is False
        assert products["SRV-1"].unit == "h"
        assert products["LIB-1"].description == "Libro: «Tornitura» (città)"
        assert products["LIB-1"].vat_rate.code == "4"
        parties = {p.code: p for p in db.session.execute(select(Party)).scalars()}
        assert parties["F-1"].legal_name == "Fonderia Bergamasca, S.p.A."
        assert parties["F-1"].street == "Via dell'Industria, 4"
        assert parties["F-1"].is_supplier
        assert not parties["F-1"].is_customer
        assert parties["F-2"].vat_number == "03777120167"
        assert parties["F-2"].legal_name == "Società Cooperativa Tessile"


def test_exported_csv_imports_into_another_firm_unchanged(tenant_client, make_user, login):
    client, tenant, _user = tenant_client("owner", modules=["catalog"])
    with tenant_context(tenant):
        terms = catalog.payment_terms()[0]
        catalog.create_party(
            {
                "code": "C-1",
                "legal_name": '=Formula; "virgolette" S.r.l.',
                "is_customer": True,
                "vat_number": "03777120167",
                "phone": "+39 035 4567890",
                "email": "a@example.it",
                "street": "Via Roma, 1",
                "postcode": "24100",
                "city": "Bergamo",
                "province": "BG",
                "sdi_code": "ABC1234",
                "payment_terms_id": terms.id,
                "vat_rate_id": catalog.vat_rate_by_code("N3.2").id,
                "notes": "riga 1\nriga 2",
            }
        )
        catalog.create_product(
            {
                "code": "P-1",
                "description": "-Sconto; speciale",
                "sale_price": "1234.5678",
                "purchase_cost": "0.1",
                "vat_rate_id": catalog.vat_rate_by_code("10").id,
                "reorder_point": "2.5",
            }
        )
        catalog.create_product(
            {
                "code": "S-1",
                "description": "Servizio",
                "is_service": True,
                "vat_rate_id": catalog.vat_rate_by_code("22").id,
            }
        )
        db.session.commit()
    customers = client.get(f"/{tenant.slug}/catalog/customers.csv")
    products = client.get(f"/{tenant.slug}/catalog/products.csv")
    assert customers.status_code == products.status_code == 200
    assert customers.mimetype == "text/csv"

    other = make_tenant_like(tenant_client)
    other_client, other_tenant = other
    for kind, export in (("customers", customers), ("products", products)):
        response = _upload(other_client, other_tenant, kind, export.data, confirm=True)
        assert response.status_code == 302, text_of(response)[-3000:]

    def snapshot(firm):
        with tenant_context(firm):
            parties = [
                (
                    p.code,
                    p.legal_name,
                    p.vat_number,
                    p.phone,
                    p.email,
                    p.street,
                    p.postcode,
                    p.city,
                    p.province,
                    p.sdi_code,
                    p.payment_terms.code,
                    p.vat_rate.code,
                    p.notes,
                )
                for p in db.session.execute(select(Party).order_by(Party.code)).scalars()
            ]
            products = [
                (
                    p.code,
                    p.description,
                    p.unit,
                    p.sale_price,
                    p.purchase_cost,
                    p.vat_rate.code,
                    p.stocked,
                    p.is_service,
                    p.reorder_point,
                )
                for p in db.session.execute(select(Product).order_by(Product.code)).scalars()
            ]
            return parties, products

    assert snapshot(other_tenant) == snapshot(tenant)
    # formulas stay harmless in the spreadsheet
    assert "'=Formula" in customers.get_data(as_text=True)


def make_tenant_like(tenant_client):
    client, tenant, _user = tenant_client("owner", modules=["catalog"])
    return client, tenant


def test_csv_import_refuses_a_file_longer_than_the_limit_instead_of_cutting_it(
    tenant_client, monkeypatch
):
    from distretto.modules.catalog import csvio

    monkeypatch.setattr(csvio, "MAX_ROWS", 3)
    client, tenant, _user = tenant_client("owner", modules=["catalog"])
    rows = "".join(f"P-{n};Articolo {n};22\n" for n in range(4))
    response = _upload(
        client, tenant, "products", ("code;description;vat_code\n" + rows).encode(), confirm=True
    )
    assert response.status_code == 400
    assert "The file has more than 3 rows: split it into smaller files." in text_of(response)
    assert _count(tenant, Product) == 0
