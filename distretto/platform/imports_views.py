"""Import pages: upload a CSV for the worker, follow its progress, read its error report.

The upload request stores the file and queues the job (see
:mod:`distretto.platform.imports`); the job's page polls itself every second
with htmx while the worker runs, and shows the per-row error report at the end.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from distretto.platform import imports
from distretto.platform.db import db
from distretto.platform.files import FileTooLarge, max_file_bytes
from distretto.platform.imports import ImportJob, ImportKind
from distretto.platform.permissions import can
from distretto.platform.web import tenant_blueprint

bp = tenant_blueprint("imports", __name__, "/imports")


def _enabled_kinds() -> list[ImportKind]:
    from distretto.platform.modules import enabled_modules

    names = {m.name for m in enabled_modules()}
    return [k for k in imports.kinds() if k.module in names and can(k.permission)]


def _kind_or_404(key: str) -> ImportKind:
    from distretto.platform.modules import enabled_modules

    kind = imports.lookup(key)
    if kind is None or kind.module not in {m.name for m in enabled_modules()}:
        abort(404)
    if not can(kind.permission):
        abort(403)
    return kind


def _job_or_404(job_id: int) -> tuple[ImportJob, ImportKind]:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        abort(404)
    return job, _kind_or_404(job.kind)


@bp.get("/")
def index() -> Any:
    kinds = _enabled_kinds()
    keys = [k.key for k in kinds]
    jobs = (
        db.session.execute(
            select(ImportJob)
            .where(ImportJob.kind.in_(keys))
            .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
            .limit(50)
        )
        .scalars()
        .all()
        if keys
        else []
    )
    labels = {k.key: k.label for k in kinds}
    return render_template("platform/imports.html", kinds=kinds, jobs=jobs, labels=labels)


@bp.route("/<kind>", methods=["GET", "POST"])
def upload(kind: str) -> Any:
    import_kind = _kind_or_404(kind)
    error = None
    if request.method == "POST":
        upload_file = request.files.get("file")
        if upload_file is not None and upload_file.filename:
            data = upload_file.read(max_file_bytes() + 1)
            filename, content_type = upload_file.filename, upload_file.mimetype
        else:  # pasted text (and scripts): the same as a file
            data = request.form.get("content", "").encode()
            filename, content_type = f"{kind}.csv", "text/csv"
        if not data.strip():
            error = _("Choose a CSV file.")
        else:
            try:
                job = imports.start(import_kind, filename, content_type or "text/csv", data)
            except FileTooLarge:
                error = _("The file is larger than %(size)d MB.", size=max_file_bytes() // 2**20)
            except imports.ImportRefused as exc:
                error = str(exc)
            else:
                return redirect(url_for("imports.job", job_id=job.id), 303)
    status = 400 if error else 200
    return render_template("platform/import_upload.html", kind=import_kind, error=error), status


@bp.get("/jobs/<int:job_id>")
def job(job_id: int) -> Any:
    job, kind = _job_or_404(job_id)
    if request.headers.get("HX-Request"):
        return render_template("platform/_import_status.html", job=job, kind=kind)
    return render_template("platform/import_job.html", job=job, kind=kind)


@bp.get("/jobs/<int:job_id>/errors.csv")
def errors(job_id: int) -> Any:
    job, _kind = _job_or_404(job_id)
    return Response(
        imports.errors_csv(job),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{job.id}-errors.csv"'},
    )

