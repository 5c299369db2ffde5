"""A firm's data as a zip: export, and import into a new firm on any installation.

The zip holds

* ``tables/<table>.json``: every row of the firm, one table per file, for every
  tenant-owned table of the metadata (kernel and modules alike, third-party
  modules included: the list is derived from the metadata, never written down);
* ``files/<table>/<column>/<local id>``: the bytes of binary columns (the
  firm's stored files: ``stored_files.data``), so the JSON stays readable;
* ``tenant.json``: the firm's own row (legal name, VAT number, language, settings);
* ``users.json``: the people the rows name (e-mail and name, never a password hash);
* ``manifest.json``: format and platform version, modules enabled with their
  versions, rows and SHA-256 per table file and per file, and one checksum over
  all of them.

Canonical form, so that a re-export of an imported firm has the same checksums:

* ids are global autoincrement values, so every table's ``id`` is written as a
  *firm-local* id (its rank by id within the firm's rows of that table, from 1);
  every foreign key to a tenant-owned table (the composite ``(tenant_id, x)``
  references included) is written as the target's local id, so the rows refer
  to each other inside the file exactly as they did in the database;
* ``tenant_id`` is left out; a reference to a person (``users.id``) is written
  as the person's e-mail address; other global references are kept as they are;
* loose references that carry no foreign key, a ``<name>_id`` beside a
  ``<name>_type`` naming a document type (``workflow_history.document_id``,
  ``source_id``/``source_line_id`` of stock and invoice lines...) and ids in
  JSON columns declared in :data:`JSON_REFERENCES`, are written as local ids
  too; one whose target is gone is written as null (or as it is, if the column
  cannot be null);
* every row is one line of JSON with sorted keys; decimals carry their column's
  scale; times are ISO 8601 with microseconds.

The audit trail is a hash chain whose hashes cover the firm's ``tenant_id`` and
the actors' ids, which an import changes. It therefore travels as history:
every entry's content (sequence, time, actor e-mail and label, action, object,
summary) is kept verbatim, object ids included (they are the ids the source
installation had); the hashes are derived values and are not exported. The
manifest records the source chain's head hash and whether it verified when
exported; the import re-seals the chain for the new firm in the same order, so
:func:`distretto.platform.audit.verify` holds for the imported firm. The source
firm's trail records each export (``firm.exported``, with the checksum), after
the rows were read; the import is written to the platform log, not to the new
firm's trail, so that a re-export reproduces the same rows.

Checksums detect a damaged or hand-edited zip; they are not a signature. Keep
the checksum the source firm's trail records to prove a zip is the one exported.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

from flask import current_app
from sqlalchemy import LargeBinary, Numeric, bindparam, insert, inspect, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.schema import Column, Table, UniqueConstraint
from sqlalchemy.types import Boolean, Date, DateTime, Integer, Time

from distretto import __version__
from distretto.platform.context import tenant_context
from distretto.platform.db import db, is_tenant_owned

logger = logging.getLogger("distretto.lifecycle")

FORMAT_VERSION = 1
BATCH = 500
BINARY_BATCH = 20

#: Ids inside JSON columns: (table, column) -> (target table, key of the id in each item).
#: A module author may add to it (or set ``info={"json_ref": "target_table"}`` on the
#: column); a list of objects each with an ``id`` is what is understood.
JSON_REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("invoicing_invoices", "order_references"): ("orders_orders", "id"),
    ("invoicing_invoices", "ddt_references"): ("inventory_shipments", "id"),
}

#: Columns derived from others: not exported, recomputed on import.
DERIVED_COLUMNS: dict[str, frozenset[str]] = {
    "audit_entries": frozenset({"hash", "prev_hash"}),
    "audit_heads": frozenset({"last_hash"}),
}


class ImportRefused(ValueError):
    """The zip cannot be imported; nothing was written. The message says why."""


# --- the plan: what each table's columns are -----------------------------------


@dataclass
class TablePlan:
    table: Table
    local_refs: dict[str, str] = field(default_factory=dict)  # column -> target table
    user_refs: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)  # tenant_id and other firm references
    loose_refs: dict[str, tuple[str, bool]] = field(
        default_factory=dict
    )  # col -> (type col, line?)
    json_refs: dict[str, tuple[str, str]] = field(default_factory=dict)
    binary: set[str] = field(default_factory=set)
    derived: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def has_id(self) -> bool:
        return "id" in self.table.c

    def exported_columns(self) -> list[Column[Any]]:
        return [
            c for c in self.table.c if c.name not in self.dropped and c.name not in self.derived
        ]


#: Tenant-owned tables that stay behind: credentials and consents given on this
#: installation, and what is only kept for a while. A module's table opts out with
#: ``__table_args__ = {"info": {"firm_export": False}}`` (or ``table.info``).
NOT_EXPORTED: dict[str, str] = {
    "api_tokens": "credentials: the new firm issues its own tokens",
    "api_idempotency_keys": "replay protection, kept for a day",
    "support_grants": "consents given to this installation's operators",
}


def skipped_reason(table: Table) -> str | None:
    """Why a tenant-owned table is not exported, or None when it is."""
    if table.name in NOT_EXPORTED:
        return NOT_EXPORTED[table.name]
    if table.info.get("firm_export", True) is False:
        return "declared not exported by its module"
    for constraint in table.constraints:
        columns = {c.name for c in getattr(constraint, "columns", ())}
        if isinstance(constraint, UniqueConstraint) and "tenant_id" not in columns:
            return "a unique key shared by all firms: its rows cannot be copied"
    return None


def portable_tables() -> list[Table]:
    """Every exported tenant-owned table present in the database, in foreign-key order."""
    existing = set(inspect(db.session.connection()).get_table_names())
    return [
        t
        for t in db.metadata.sorted_tables
        if is_tenant_owned(t) and t.name in existing and skipped_reason(t) is None
    ]


def _plans() -> dict[str, TablePlan]:
    tables = portable_tables()
    names = {t.name for t in tables}
    plans: dict[str, TablePlan] = {}
    for table in tables:
        plan = TablePlan(table=table, derived=DERIVED_COLUMNS.get(table.name, frozenset()))
        fk_columns: set[str] = set()
        for constraint in table.foreign_key_constraints:
            target = constraint.referred_table.name
            for element in constraint.elements:
                column = element.parent.name
                fk_columns.add(column)
                if column == "tenant_id":
                    continue
                if target == "tenants":
                    plan.dropped.add(column)
                elif target == "users":
                    plan.user_refs.add(column)
                elif target in names and element.column.name == "id":
                    plan.local_refs[column] = target
        plan.dropped.add("tenant_id")
        for column in table.c:
            if isinstance(column.type, LargeBinary):
                plan.binary.add(column.name)
            hint = column.info.get("json_ref")
            if hint:
                plan.json_refs[column.name] = (hint, "id")
            if (table.name, column.name) in JSON_REFERENCES:
                plan.json_refs[column.name] = JSON_REFERENCES[(table.name, column.name)]
            if column.name in fk_columns or not column.name.endswith("_id"):
                continue
            if not isinstance(column.type, Integer):
                continue
            prefix = column.name[: -len("_id")]
            if prefix.endswith("_line") and f"{prefix[: -len('_line')]}_type" in table.c:
                plan.loose_refs[column.name] = (f"{prefix[: -len('_line')]}_type", True)
            elif f"{prefix}_type" in table.c:
                plan.loose_refs[column.name] = (f"{prefix}_type", False)
        plans[table.name] = plan
    return plans


def _type_table(type_name: str | None, plans: dict[str, TablePlan]) -> str | None:
    """The table a loose reference's type names: a document type, else a table name."""
    if not type_name:
        return None
    from distretto.platform.modules import registry

    doc_type = registry.document_types.get(type_name)
    if doc_type is not None:
        name = doc_type.model.__table__.name
        return name if name in plans else None
    for name in plans:
        if name == type_name or name.endswith(f"_{type_name}s"):
            return name
    return None


def _line_table(document_table: str, plans: dict[str, TablePlan]) -> str | None:
    """The lines of a document table: its ``lines`` relationship, else ``*_lines`` naming it."""
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is plans[document_table].table and "lines" in mapper.relationships:
            target = mapper.relationships["lines"].mapper.local_table.name
            return target if target in plans else None
    for name, plan in plans.items():
        if name.endswith("_lines") and document_table in plan.local_refs.values():
            return name
    return None


# --- values -----------------------------------------------------------------


def _plain(value: Any, column: Column[Any]) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        scale = getattr(column.type, "scale", None)
        if scale is not None:
            value = value.quantize(Decimal(1).scaleb(-scale))
        return format(value, "f")
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, float) and isinstance(column.type, Numeric):
        return _plain(Decimal(str(value)), column)
    return value


def _typed(value: Any, column: Column[Any]) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Time):
        return time.fromisoformat(value)
    if isinstance(kind, Numeric) and not isinstance(kind, Integer):
        return Decimal(value)
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, LargeBinary):
        return base64.b64decode(value)
    return value


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def total_checksum(manifest: dict[str, Any]) -> str:
    """One SHA-256 over every part's checksum: equal exactly when all parts are."""
    parts = {
        "tenant": manifest["tenant"]["sha256"],
        "users": manifest["users"]["sha256"],
        "tables": {name: t["sha256"] for name, t in manifest["tables"].items()},
        "files": {name: f["sha256"] for name, f in manifest["files"].items()},
    }
    return _sha(canonical(parts).encode("utf-8"))


# --- export ------------------------------------------------------------------


def _firm_rows(table: Table, tenant_id: int, columns: list[Column[Any]], batch: int) -> Any:
    """The firm's rows of ``table`` in id order, streamed (Core: the explicit filter scopes it)."""
    order = [table.c.id] if "id" in table.c else list(table.primary_key.columns)
    statement = (
        select(*columns)
        .where(table.c.tenant_id == tenant_id)
        .order_by(*order)
        .execution_options(yield_per=batch)
    )
    return db.session.connection().execute(statement)


def _local_ids(plans: dict[str, TablePlan], tenant_id: int) -> dict[str, dict[int, int]]:
    maps: dict[str, dict[int, int]] = {}
    for name, plan in plans.items():
        if not plan.has_id:
            continue
        rows = _firm_rows(plan.table, tenant_id, [plan.table.c.id], 5000)
        maps[name] = {row[0]: rank for rank, row in enumerate(rows, start=1)}
    return maps


def _user_emails(tenant_id: int, plans: dict[str, TablePlan]) -> dict[int, tuple[str, str]]:
    from distretto.platform.auth.models import User

    ids: set[int] = set()
    for plan in plans.values():
        for column in plan.user_refs:
            col = plan.table.c[column]
            rows = db.session.connection().execute(
                select(col).where(plan.table.c.tenant_id == tenant_id, col.is_not(None)).distinct()
            )
            ids.update(row[0] for row in rows)
    found: dict[int, tuple[str, str]] = {}
    id_list = sorted(ids)
    for start in range(0, len(id_list), 1000):
        chunk = id_list[start : start + 1000]
        for user in db.session.execute(select(User).where(User.id.in_(chunk))).scalars():
            found[user.id] = (user.email.lower(), user.name or "")
    return found


@dataclass
class ExportResult:
    manifest: dict[str, Any]

    @property
    def checksum(self) -> str:
        return str(self.manifest["checksum"])


def export_firm(tenant: Any, out: IO[bytes], *, actor_id: int | None = None) -> ExportResult:
    """Write ``tenant``'s zip to ``out`` (a binary file object) and record the export.

    Runs in the caller's transaction; the audit entry ``firm.exported`` is
    appended after the rows were read, so the zip does not contain it.
    """
    from distretto.platform import audit
    from distretto.platform.audit import verify
    from distretto.platform.modules import TenantModule, registry

    with tenant_context(tenant, actor_id):
        db.session.flush()
        plans = _plans()
        tenant_id = int(tenant.id)
        maps = _local_ids(plans, tenant_id)
        users = _user_emails(tenant_id, plans)
        resolved: dict[tuple[str, str | None], str | None] = {}
        manifest: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "platform_version": __version__,
            "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "source": {"slug": tenant.slug, "base_url": current_app.config.get("BASE_URL")},
            "tables": {},
            "files": {},
        }
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            tenant_data = {
                "legal_name": tenant.legal_name,
                "vat_number": tenant.vat_number,
                "default_locale": tenant.default_locale,
                "settings": tenant.settings or {},
            }
            payload = (canonical(tenant_data) + "\n").encode("utf-8")
            archive.writestr("tenant.json", payload)
            manifest["tenant"] = {"sha256": _sha(payload)}
            people = sorted({email: name for email, name in users.values()}.items())
            payload = (canonical([{"email": e, "name": n} for e, n in people]) + "\n").encode()
            archive.writestr("users.json", payload)
            manifest["users"] = {"sha256": _sha(payload), "count": len(people)}
            for name, plan in plans.items():
                manifest["tables"][name] = _export_table(
                    archive, plan, plans, tenant_id, maps, users, resolved, manifest["files"]
                )
            enabled = db.session.execute(
                select(TenantModule.module).where(TenantModule.enabled.is_(True))
            ).scalars()
            manifest["modules"] = {
                m: (registry.modules[m].version if m in registry.modules else None)
                for m in sorted(enabled)
            }
            trail = verify()
            manifest["audit"] = {
                "entries": trail.entries,
                "head_seq": trail.head_seq,
                "head_hash": trail.head_hash,
                "verified": trail.ok,
            }
            manifest["not_exported"] = {
                t.name: skipped_reason(t)
                for t in db.metadata.sorted_tables
                if is_tenant_owned(t) and skipped_reason(t) is not None
            }
            manifest["checksum"] = total_checksum(manifest)
            archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
        audit.record(
            "firm.exported",
            tenant,
            summary={"checksum": manifest["checksum"], "tables": len(manifest["tables"])},
        )
    logger.info("firm exported slug=%s checksum=%s", tenant.slug, manifest["checksum"])
    return ExportResult(manifest)


def _export_table(
    archive: zipfile.ZipFile,
    plan: TablePlan,
    plans: dict[str, TablePlan],
    tenant_id: int,
    maps: dict[str, dict[int, int]],
    users: dict[int, tuple[str, str]],
    resolved: dict[tuple[str, str | None], str | None],
    files: dict[str, Any],
) -> dict[str, Any]:
    columns = plan.exported_columns()
    if plan.has_id and plan.table.c.id not in columns:
        columns.append(plan.table.c.id)
    batch = BINARY_BATCH if plan.binary else BATCH
    digest = hashlib.sha256()
    count = 0
    path = f"tables/{plan.name}.json"
    # Spooled: the zip takes one member at a time, and file bytes go in as rows are read.
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as member:
        for row in _firm_rows(plan.table, tenant_id, columns, batch):
            values = row._mapping
            local = maps[plan.name][values["id"]] if plan.has_id else count + 1
            record: dict[str, Any] = {}
            for column in columns:
                name = column.name
                value = values[name]
                if name == "id":
                    record[name] = local
                elif name in plan.local_refs:
                    record[name] = None if value is None else maps[plan.local_refs[name]].get(value)
                elif name in plan.user_refs:
                    record[name] = users[value][0] if value in users else None
                elif name in plan.loose_refs:
                    record[name] = _export_loose(plan, name, values, value, plans, maps, resolved)
                elif name in plan.json_refs and value is not None:
                    target, key = plan.json_refs[name]
                    record[name] = _map_json(value, key, maps.get(target, {}))
                elif name in plan.binary:
                    record[name] = (
                        None
                        if value is None
                        else _export_bytes(archive, plan.name, name, local, bytes(value), files)
                    )
                else:
                    record[name] = _plain(value, column)
            line = (canonical(record) + "\n").encode("utf-8")
            digest.update(line)
            member.write(line)
            count += 1
        member.seek(0)
        with archive.open(path, "w") as target:
            shutil.copyfileobj(member, target, 1 << 20)
    return {"file": path, "rows": count, "sha256": digest.hexdigest()}


def _export_loose(
    plan: TablePlan,
    name: str,
    values: Any,
    value: Any,
    plans: dict[str, TablePlan],
    maps: dict[str, dict[int, int]],
    resolved: dict[tuple[str, str | None], str | None],
) -> Any:
    if value is None:
        return None
    type_column, is_line = plan.loose_refs[name]
    target = _loose_target(values[type_column], is_line, plans, resolved)
    local = maps.get(target, {}).get(value) if target else None
    if local is not None:
        return local
    return None if plan.table.c[name].nullable else value


def _loose_target(
    type_name: str | None,
    is_line: bool,
    plans: dict[str, TablePlan],
    resolved: dict[tuple[str, str | None], str | None],
) -> str | None:
    key = ("line" if is_line else "doc", type_name)
    if key not in resolved:
        target = _type_table(type_name, plans)
        resolved[key] = _line_table(target, plans) if target and is_line else target
    return resolved[key]


def _map_json(value: Any, key: str, mapping: dict[int, int]) -> Any:
    if not isinstance(value, list):
        return value
    out = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get(key), int):
            item = {**item, key: mapping.get(item[key])}
        out.append(item)
    return out


def _export_bytes(
    archive: zipfile.ZipFile, table: str, column: str, local: int, data: bytes, files: dict
) -> str:
    path = f"files/{table}/{column}/{local}"
    archive.writestr(path, data)
    checksum = _sha(data)
    files[path] = {"sha256": checksum, "size": len(data)}
    return path


# --- import ------------------------------------------------------------------


@dataclass
class ImportReport:
    tenant: Any
    rows: dict[str, int] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    missing_users: list[tuple[str, str]] = field(default_factory=list)  # (email, role)
    invited: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # table -> why each row was left


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, after every part of the zip was checked against it.

    Raises :class:`ImportRefused` naming the first part that does not match.
    """
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except KeyError as exc:
        raise ImportRefused("not a firm export: manifest.json is missing") from exc
    except ValueError as exc:
        raise ImportRefused("manifest.json is not valid JSON") from exc
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != FORMAT_VERSION:
        raise ImportRefused(
            f"unsupported export format {found!r} (this platform reads format {FORMAT_VERSION})"
        )
    try:
        parts = [
            ("tenant.json", manifest["tenant"]["sha256"]),
            ("users.json", manifest["users"]["sha256"]),
        ]
        parts += [(t["file"], t["sha256"]) for t in manifest["tables"].values()]
        parts += [(path, f["sha256"]) for path, f in manifest["files"].items()]
        expected_total = manifest["checksum"]
    except (KeyError, TypeError) as exc:
        raise ImportRefused(f"manifest.json is incomplete ({exc})") from exc
    names = set(archive.namelist())
    for path, checksum in parts:
        if path not in names:
            raise ImportRefused(f"{path} is missing from the zip")
        digest = hashlib.sha256()
        with archive.open(path) as member:
            for chunk in iter(lambda m=member: m.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != checksum:
            raise ImportRefused(
                f"{path} does not match its checksum: the zip was altered or damaged"
            )
    if total_checksum(manifest) != expected_total:
        raise ImportRefused("the manifest's checksum does not match: the zip was altered")
    for name, table in manifest["tables"].items():
        if table["file"] != f"tables/{name}.json":
            raise ImportRefused(f"unexpected file {table['file']} for table {name}")
    return manifest


def _lines(archive: zipfile.ZipFile, path: str) -> Iterator[dict[str, Any]]:
    with archive.open(path) as member:
        for raw in io.TextIOWrapper(member, encoding="utf-8"):
            if raw.strip():
                yield json.loads(raw)


def import_firm(
    source: IO[bytes] | str,
    slug: str,
    *,
    legal_name: str | None = None,
    invite_missing: bool = False,
) -> ImportReport:
    """Create a new firm ``slug`` from an export; everything in the caller's transaction.

    The zip is checked in full (checksums, format, modules, tables, columns)
    before anything is written; a refusal raises :class:`ImportRefused`.
    Members are matched to this installation's people by e-mail; the others
    are reported (or invited, with ``invite_missing``).
    """
    from distretto.platform.modules import invalidate_enabled_cache, registry
    from distretto.tenants.models import Tenant, TenantStatus
    from distretto.tenants.services import check_slug, normalise_vat

    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused(f"not a zip file ({exc})") from exc
    with archive:
        manifest = read_manifest(archive)
        missing = [m for m in manifest.get("modules", {}) if m not in registry.modules]
        if missing:
            raise ImportRefused(
                "the export uses modules this installation does not have: " + ", ".join(missing)
            )
        plans = _plans()
        unknown = [name for name in manifest["tables"] if name not in plans]
        if unknown:
            raise ImportRefused(
                "the export holds tables this installation does not have: " + ", ".join(unknown)
            )
        for name in manifest["tables"]:
            for record in _lines(archive, manifest["tables"][name]["file"]):
                known = {c.name for c in plans[name].exported_columns()}
                extra = sorted(set(record) - known)
                if extra:
                    raise ImportRefused(
                        f"table {name} has columns this installation does not know: "
                        + ", ".join(extra)
                        + " (upgrade this installation first)"
                    )
                break
        data = json.loads(archive.read("tenant.json"))
        tenant = Tenant(
            slug=check_slug(slug),
            legal_name=(legal_name or data["legal_name"]).strip(),
            vat_number=normalise_vat(data["vat_number"]),
            default_locale=data.get("default_locale") or "it",
            settings=data.get("settings") or {},
            status=TenantStatus.ACTIVE,
        )
        db.session.add(tenant)
        db.session.flush()
        report = ImportReport(tenant=tenant)
        with tenant_context(tenant):
            try:
                _Importer(archive, manifest, plans, tenant, report).run()
            except SQLAlchemyError as exc:
                reason = getattr(exc, "orig", None) or exc
                raise ImportRefused(
                    f"the rows do not fit this installation's schema: {reason}"
                ) from exc
            invalidate_enabled_cache()
    if invite_missing and report.missing_users:
        from distretto.tenants.services import invite

        for email, role in report.missing_users:
            invite(tenant, email, role)
            report.invited.append(email)
    logger.info(
        "firm imported slug=%s from=%s checksum=%s rows=%d missing_users=%d",
        tenant.slug,
        manifest.get("source", {}).get("slug"),
        manifest["checksum"],
        sum(report.rows.values()),
        len(report.missing_users),
    )
    return report


class _Importer:
    def __init__(
        self,
        archive: zipfile.ZipFile,
        manifest: dict[str, Any],
        plans: dict[str, TablePlan],
        tenant: Any,
        report: ImportReport,
    ) -> None:
        self.archive = archive
        self.manifest = manifest
        self.plans = plans
        self.tenant_id = int(tenant.id)
        self.report = report
        self.maps: dict[str, dict[int, int]] = {}
        self.users = self._users()
        self.resolved: dict[tuple[str, str | None], str | None] = {}
        self.late: list[tuple[str, str, int, Any, dict[str, Any]]] = []
        self.audit_hashes: dict[int, str] = {}
        self.connection = db.session.connection()

    def _users(self) -> dict[str, int]:
        from sqlalchemy import func

        from distretto.platform.auth.models import User

        people = json.loads(self.archive.read("users.json"))
        emails = [p["email"].lower() for p in people]
        found: dict[str, int] = {}
        for start in range(0, len(emails), 1000):
            chunk = emails[start : start + 1000]
            rows = db.session.execute(
                select(func.lower(User.email), User.id).where(func.lower(User.email).in_(chunk))
            )
            found.update({email: user_id for email, user_id in rows})
        return found

    def run(self) -> None:
        for name, plan in self.plans.items():
            info = self.manifest["tables"].get(name)
            self.maps[name] = {}
            if info is None:
                continue
            self._insert_table(plan, info["file"])
        self._patch_late()
        self._seal_audit_heads()

    def _insert_table(self, plan: TablePlan, path: str) -> None:
        pending: list[tuple[int | None, dict[str, Any]]] = []
        count = 0
        for record in _lines(self.archive, path):
            row = self._row(plan, record)
            if row is None:
                continue
            pending.append((record.get("id"), row))
            if len(pending) >= (BINARY_BATCH if plan.binary else BATCH):
                count += self._flush(plan, pending)
                pending = []
        count += self._flush(plan, pending)
        self.report.rows[plan.name] = count

    def _row(self, plan: TablePlan, record: dict[str, Any]) -> dict[str, Any] | None:
        row: dict[str, Any] = {"tenant_id": self.tenant_id}
        local_id = record.get("id")
        for column in plan.exported_columns():
            name = column.name
            if name == "id" or name not in record:
                continue
            value = record[name]
            if name in plan.local_refs:
                target = plan.local_refs[name]
                if value is None:
                    row[name] = None
                elif target == plan.name and value not in self.maps[target]:
                    row[name] = None  # forward reference within the table: patched afterwards
                    self.late.append((plan.name, name, local_id, ("self", value), record))
                else:
                    row[name] = self.maps[target].get(value)
                    if row[name] is None and not column.nullable:
                        return self._skip(plan, f"its {name} was not imported")
            elif name in plan.user_refs:
                row[name] = None if value is None else self.users.get(value.lower())
                if value is not None and row[name] is None and not column.nullable:
                    if plan.name == "memberships":
                        self.report.missing_users.append((value, record.get("role", "staff")))
                        return None
                    return self._skip(plan, f"{value} has no account here")
            elif name in plan.loose_refs or name in plan.json_refs:
                row[name] = _typed(value, column) if name in plan.loose_refs else value
                if value is not None:
                    self.late.append((plan.name, name, local_id, ("loose", value), record))
            elif name in plan.binary:
                row[name] = None if value is None else self.archive.read(value)
            else:
                row[name] = _typed(value, column)
        if plan.name == "memberships":
            self.report.members.append(str(record.get("user_id")))
        if plan.name == "audit_entries":
            self._seal(row)
        return row

    def _skip(self, plan: TablePlan, reason: str) -> None:
        self.report.skipped.setdefault(plan.name, []).append(reason)
        return None

    def _seal(self, row: dict[str, Any]) -> None:
        from distretto.platform.audit import GENESIS, AuditEntry, compute_hash

        previous = self.audit_hashes.get(int(row["seq"]) - 1, GENESIS)
        entry = AuditEntry(
            **{k: v for k, v in row.items() if k in AuditEntry.__table__.c}, prev_hash=previous
        )
        row["prev_hash"] = previous
        row["hash"] = compute_hash(entry.content())
        self.audit_hashes[int(row["seq"])] = row["hash"]

    def _flush(self, plan: TablePlan, pending: list[tuple[int | None, dict[str, Any]]]) -> int:
        if not pending:
            return 0
        rows = [row for _local, row in pending]
        if plan.has_id:
            statement = insert(plan.table).returning(plan.table.c.id, sort_by_parameter_order=True)
            new_ids = [r[0] for r in self.connection.execute(statement, rows)]
            for (local, _row), new_id in zip(pending, new_ids, strict=True):
                if local is not None:
                    self.maps[plan.name][local] = new_id
        else:
            self.connection.execute(plan.table.insert(), rows)
        return len(rows)

    def _patch_late(self) -> None:
        """Set the references that could only be mapped once every table was in."""
        batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for table_name, column, local_id, (kind, value), record in self.late:
            plan = self.plans[table_name]
            new_id = self.maps[table_name].get(local_id)
            if new_id is None:
                continue
            if kind == "self":
                mapped = self.maps[table_name].get(value)
            elif column in plan.json_refs:
                target, key = plan.json_refs[column]
                mapped = _map_json(value, key, self.maps.get(target, {}))
            else:
                type_column, is_line = plan.loose_refs[column]
                target = _loose_target(record.get(type_column), is_line, self.plans, self.resolved)
                mapped = self.maps.get(target, {}).get(value) if target else None
                if mapped is None:
                    continue  # written as it was: a reference whose target was already gone
            batches.setdefault((table_name, column), []).append({"_id": new_id, "_value": mapped})
        for (table_name, column), rows in batches.items():
            table = self.plans[table_name].table
            statement = (
                update(table)
                .where(table.c.tenant_id == self.tenant_id, table.c.id == bindparam("_id"))
                .values({column: bindparam("_value", type_=table.c[column].type)})
            )
            self.connection.execute(statement, rows)

    def _seal_audit_heads(self) -> None:
        from distretto.platform.audit import GENESIS, AuditHead

        table = AuditHead.__table__
        if table.name not in self.plans:
            return
        rows = self.connection.execute(
            select(table.c.id, table.c.last_seq).where(table.c.tenant_id == self.tenant_id)
        ).all()
        for head_id, last_seq in rows:
            self.connection.execute(
                update(table)
                .where(table.c.tenant_id == self.tenant_id, table.c.id == head_id)
                .values(last_hash=self.audit_hashes.get(int(last_seq or 0), GENESIS))
            )
