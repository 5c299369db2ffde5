"""Pages of the catalog: customers, suppliers, products, CSV import and export."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from distretto.modules.catalog import csvio, lists, services
from distretto.modules.catalog import imports as _imports  # noqa: F401 - registers its CSV imports
from distretto.modules.catalog.forms import EmptyForm, ImportForm, PartyForm, ProductForm
from distretto.modules.catalog.models import Party, Product
from distretto.platform.files import FileTooLarge
from distretto.platform.forms import form_values, put_errors, select_choices
from distretto.sdk import db, imports, listviews, permission_required, tenant_blueprint

bp = tenant_blueprint("catalog", __name__, "/catalog", template_folder="templates")

KINDS = {"customer": "customers", "supplier": "suppliers"}


def _party_or_404(party_id: int) -> Party:
    party = db.session.get(Party, party_id)
    if party is None:
        abort(404)
    return party


def _product_or_404(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    return product


def _archived_arg() -> bool:
    return request.args.get("archived") == "1"


# --- customers and suppliers --------------------------------------------------------


@bp.get("/customers")
@permission_required("catalog.view")
def customers() -> Any:
    return _party_list("customer")


@bp.get("/suppliers")
@permission_required("catalog.view")
def suppliers() -> Any:
    return _party_list("supplier")


def _party_list(kind: str) -> Any:
    view = lists.CUSTOMERS if kind == "customer" else lists.SUPPLIERS
    return listviews.render(view, "catalog/parties.html", kind=kind, form=EmptyForm())


@bp.get("/<kind>.csv")
@permission_required("catalog.view")
def export_parties(kind: str) -> Any:
    singular = {"customers": "customer", "suppliers": "supplier"}.get(kind)
    if singular is None:
        abort(404)
    query = services.party_query(request.args.get("q"), singular, _archived_arg()).order_by(
        Party.legal_name
    )
    rows = db.session.execute(
        query.options(selectinload(Party.payment_terms), selectinload(Party.vat_rate))
    ).scalars()
    return _csv_response(csvio.export_parties(rows), f"{kind}.csv")


def _party_choices(form: PartyForm) -> None:
    form.payment_terms_id.choices = select_choices(
        [("", "—")] + [(t.id, f"{t.code} – {t.description}") for t in services.payment_terms()]
    )
    form.vat_rate_id.choices = select_choices(
        [("", "—")] + [(r.id, r.label) for r in services.vat_rates()]
    )


@bp.route("/parties/new", methods=["GET", "POST"])
@permission_required("catalog.edit")
def new_party() -> Any:
    kind = request.args.get("kind", "customer")
    form = PartyForm()
    _party_choices(form)
    if request.method == "GET":
        form.is_customer.data = kind == "customer"
        form.is_supplier.data = kind == "supplier"
        return render_template("catalog/party_form.html", form=form, party=None)
    if form.validate_on_submit():
        try:
            party = services.create_party(form_values(form))
        except ValidationError as exc:
            put_errors(form, exc.messages)
        else:
            flash(_("%(name)s saved.", name=party.legal_name), "success")
            return redirect(url_for("catalog.party_detail", party_id=party.id))
    return render_template("catalog/party_form.html", form=form, party=None), 400


@bp.get("/parties/<int:party_id>")
@permission_required("catalog.view")
def party_detail(party_id: int) -> Any:
    party = _party_or_404(party_id)
    return render_template("catalog/party_detail.html", party=party, form=EmptyForm())


@bp.route("/parties/<int:party_id>/edit", methods=["GET", "POST"])
@permission_required("catalog.edit")
def edit_party(party_id: int) -> Any:
    party = _party_or_404(party_id)
    form = PartyForm(obj=party)
    _party_choices(form)
    if request.method == "GET":
        form.payment_terms_id.data = str(party.payment_terms_id or "")
        form.vat_rate_id.data = str(party.vat_rate_id or "")
        return render_template("catalog/party_form.html", form=form, party=party)
    if form.validate_on_submit():
        try:
            services.update_party(party, form_values(form))
        except ValidationError as exc:
            db.session.rollback()
            put_errors(form, exc.messages)
        else:
            flash(_("%(name)s saved.", name=party.legal_name), "success")
            return redirect(url_for("catalog.party_detail", party_id=party.id))
    return render_template("catalog/party_form.html", form=form, party=party), 400


@bp.post("/parties/<int:party_id>/archive")
@permission_required("catalog.edit")
def archive_party(party_id: int) -> Any:
    return _set_archived(_party_or_404(party_id), True, "catalog.party_detail", party_id=party_id)


@bp.post("/parties/<int:party_id>/restore")
@permission_required("catalog.edit")
def restore_party(party_id: int) -> Any:
    return _set_archived(_party_or_404(party_id), False, "catalog.party_detail", party_id=party_id)


@bp.post("/parties/<int:party_id>/delete")
@permission_required("catalog.edit")
def delete_party(party_id: int) -> Any:
    party = _party_or_404(party_id)
    target = "catalog.customers" if party.is_customer else "catalog.suppliers"
    return _delete(party, target, "catalog.party_detail", party_id=party_id)


# --- products ---------------------------------------------------------------------------


@bp.get("/products")
@permission_required("catalog.view")
def products() -> Any:
    return listviews.render(lists.PRODUCTS, "catalog/products.html")


@bp.get("/products.csv")
@permission_required("catalog.view")
def export_products() -> Any:
    query = services.product_query(request.args.get("q"), _archived_arg()).order_by(Product.code)
    return _csv_response(csvio.export_products(db.session.execute(query).scalars()), "products.csv")


def _product_choices(form: ProductForm) -> None:
    form.vat_rate_id.choices = select_choices([(r.id, r.label) for r in services.vat_rates()])


@bp.route("/products/new", methods=["GET", "POST"])
@permission_required("catalog.edit")
def new_product() -> Any:
    form = ProductForm()
    _product_choices(form)
    if request.method == "GET":
        standard = services.vat_rate_by_code("22")
        form.vat_rate_id.data = str(standard.id) if standard else None
        return render_template("catalog/product_form.html", form=form, product=None)
    if form.validate_on_submit():
        try:
            product = services.create_product(form_values(form))
        except ValidationError as exc:
            put_errors(form, exc.messages)
        else:
            flash(_("%(code)s saved.", code=product.code), "success")
            return redirect(url_for("catalog.product_detail", product_id=product.id))
    return render_template("catalog/product_form.html", form=form, product=None), 400


@bp.get("/products/<int:product_id>")
@permission_required("catalog.view")
def product_detail(product_id: int) -> Any:
    return render_template(
        "catalog/product_detail.html", product=_product_or_404(product_id), form=EmptyForm()
    )


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@permission_required("catalog.edit")
def edit_product(product_id: int) -> Any:
    product = _product_or_404(product_id)
    form = ProductForm(obj=product)
    _product_choices(form)
    if request.method == "GET":
        form.vat_rate_id.data = str(product.vat_rate_id)
        return render_template("catalog/product_form.html", form=form, product=product)
    if form.validate_on_submit():
        try:
            services.update_product(product, form_values(form))
        except ValidationError as exc:
            db.session.rollback()
            put_errors(form, exc.messages)
        else:
            flash(_("%(code)s saved.", code=product.code), "success")
            return redirect(url_for("catalog.product_detail", product_id=product.id))
    return render_template("catalog/product_form.html", form=form, product=product), 400


@bp.post("/products/<int:product_id>/archive")
@permission_required("catalog.edit")
def archive_product(product_id: int) -> Any:
    return _set_archived(
        _product_or_404(product_id), True, "catalog.product_detail", product_id=product_id
    )


@bp.post("/products/<int:product_id>/restore")
@permission_required("catalog.edit")
def restore_product(product_id: int) -> Any:
    return _set_archived(
        _product_or_404(product_id), False, "catalog.product_detail", product_id=product_id
    )


@bp.post("/products/<int:product_id>/delete")
@permission_required("catalog.edit")
def delete_product(product_id: int) -> Any:
    return _delete(
        _product_or_404(product_id),
        "catalog.products",
        "catalog.product_detail",
        product_id=product_id,
    )


# --- shared ----------------------------------------------------------------------------------


def _set_archived(record: Party | Product, archived: bool, endpoint: str, **kwargs: Any) -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.set_archived(record, archived)
    flash(_("Archived.") if archived else _("Restored."), "success")
    return redirect(url_for(endpoint, **kwargs))


def _delete(
    record: Party | Product, list_endpoint: str, detail_endpoint: str, **kwargs: Any
) -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_record(record)
    except services.InUse as exc:
        flash(str(exc), "error")
        return redirect(url_for(detail_endpoint, **kwargs)), 303
    flash(_("Deleted."), "success")
    return redirect(url_for(list_endpoint))


def _csv_response(rows: Any, filename: str) -> Response:
    return Response(
        "".join(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/import", methods=["GET", "POST"])
@permission_required("catalog.import")
def import_csv() -> Any:
    form = ImportForm()
    if request.method == "GET":
        form.kind.data = request.args.get("kind", "customers")
        return render_template("catalog/import.html", form=form, preview=None)
    if not form.validate_on_submit():
        return render_template("catalog/import.html", form=form, preview=None), 400
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        content = csvio.decode(upload.read(5_000_001))
        if len(content) > 5_000_000:
            form.file.errors = [_("The file is larger than 5 MB.")]
            return render_template("catalog/import.html", form=form, preview=None), 400
    else:
        content = form.content.data or ""
    if not content.strip():
        form.file.errors = [_("Choose a CSV file.")]
        return render_template("catalog/import.html", form=form, preview=None), 400
    if content.count("\n") > BACKGROUND_ABOVE_ROWS:
        return _import_in_background(form, content, upload.filename if upload else None)
    preview = csvio.preview(form.kind.data, content)
    if request.form.get("confirm") == "1" and preview.ok:
        count = csvio.import_rows(preview)
        flash(_("%(count)d rows imported.", count=count), "success")
        target = {"customers": "catalog.customers", "suppliers": "catalog.suppliers"}.get(
            form.kind.data, "catalog.products"
        )
        return redirect(url_for(target))
    form.content.data = content
    status = 200 if preview.ok else 400
    return render_template("catalog/import.html", form=form, preview=preview), status


#: Larger files are not previewed: the worker imports them (good rows in, bad rows reported).
BACKGROUND_ABOVE_ROWS = 1000


def _import_in_background(form: ImportForm, content: str, filename: str | None) -> Any:
    kind = imports.lookup(form.kind.data)
    if kind is None:
        abort(404)
    try:
        job = imports.start(kind, filename or f"{kind.key}.csv", "text/csv", content.encode())
    except (imports.ImportRefused, FileTooLarge) as exc:
        message = (
            str(exc) if isinstance(exc, imports.ImportRefused) else _("The file is too large.")
        )
        form.file.errors = [message]
        return render_template("catalog/import.html", form=form, preview=None), 400
    flash(_("The file is large: it is being imported in the background."), "info")
    return redirect(url_for("imports.job", job_id=job.id), 303)
