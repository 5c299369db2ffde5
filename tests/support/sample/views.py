from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from distretto.platform import workflow
from distretto.platform.db import db
from distretto.platform.permissions import current_role, permission_required
from distretto.platform.web import tenant_blueprint
from tests.support.sample.models import SampleRequest

bp = tenant_blueprint("sample", __name__, "/sample", template_folder="templates")


@bp.get("/")
@permission_required("sample.view")
def index() -> Any:
    rows = db.session.execute(select(SampleRequest).order_by(SampleRequest.id)).scalars().all()
    return render_template("sample/index.html", rows=rows)


@bp.get("/<int:document_id>")
@permission_required("sample.view")
def detail(document_id: int) -> Any:
    document = db.session.get(SampleRequest, document_id) or abort(404)
    return render_template(
        "sample/detail.html",
        document=document,
        transitions=workflow.available_transitions(document, "sample_request", current_role()),
        history=workflow.history(document, "sample_request"),
    )


@bp.post("/<int:document_id>/transitions/<name>")
@permission_required("sample.view")
def transition(document_id: int, name: str) -> Any:
    document = db.session.get(SampleRequest, document_id) or abort(404)
    try:
        workflow.apply(
            document,
            "sample_request",
            name,
            role=current_role(),
            comment=request.form.get("comment"),
        )
    except workflow.TransitionRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("sample.detail", document_id=document.id)), 303
    return redirect(url_for("sample.detail", document_id=document.id))
