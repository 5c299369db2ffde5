"""A firm's own data (name, VAT number, fiscal address, language) and its logo.

The values are the ones documents read: the e-invoice's CedentePrestatore takes
the legal name and VAT number from the ``tenants`` row and the fiscal address and
codice fiscale from ``tenant.settings["fiscal"]`` (the keys the invoicing module's
fiscal settings write too); printed documents take their header from the same
place plus the contacts in ``tenant.settings["firm"]``. Editing them here changes
what the next document issued carries; documents already issued keep theirs.

Every check runs before anything is written, so refused input changes nothing.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from stdnum.it import codicefiscale, iva

from distretto.platform import audit, files
from distretto.platform.db import db
from distretto.tenants.models import Tenant
from distretto.tenants.services import TenantError, normalise_vat

LOGO_PURPOSE = "logo"
DEFAULT_MAX_LOGO_BYTES = 512 * 1024
LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg"}

POSTCODE_RE = re.compile(r"^\d{5}$")
PROVINCE_RE = re.compile(r"^[A-Z]{2}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")

#: the keys of ``settings["fiscal"]`` this page owns (the invoicing module's page
#: also edits the tax regime and the IBAN there, which this page leaves alone)
FISCAL_KEYS = ("tax_code", "street", "postcode", "city", "province", "country")
CONTACT_KEYS = ("phone", "email", "pec")


def max_logo_bytes() -> int:
    return int(current_app.config.get("MAX_LOGO_BYTES", DEFAULT_MAX_LOGO_BYTES))


def firm_values(tenant: Tenant) -> dict[str, Any]:
    """The current values, as the firm-data form shows them."""
    settings = tenant.settings or {}
    fiscal = settings.get("fiscal", {}) or {}
    contacts = settings.get("firm", {}) or {}
    values: dict[str, Any] = {
        "legal_name": tenant.legal_name,
        "vat_number": tenant.vat_number,
        "default_locale": tenant.default_locale,
    }
    values.update({key: fiscal.get(key) or "" for key in FISCAL_KEYS})
    values.update({key: contacts.get(key) or "" for key in CONTACT_KEYS})
    if not values["country"]:
        values["country"] = "IT"
    return values


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise and check every field; raise the first problem, with its field."""
    out = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    legal_name = out.get("legal_name") or ""
    if not legal_name or len(legal_name) > 200:
        raise TenantError(_("The legal name is required (at most 200 characters)."), "legal_name")
    out["vat_number"] = normalise_vat(out.get("vat_number") or "")
    if out.get("default_locale") not in current_app.config["SUPPORTED_LOCALES"]:
        raise TenantError(
            _("Unsupported language %(code)s.", code=out.get("default_locale")), "default_locale"
        )
    country = (out.get("country") or "IT").upper()
    if not COUNTRY_RE.match(country):
        raise TenantError(_("Use the two-letter country code (e.g. IT)."), "country")
    out["country"] = country
    tax_code = (out.get("tax_code") or "").upper().replace(" ", "")
    if tax_code and not (codicefiscale.is_valid(tax_code) or iva.is_valid(tax_code)):
        raise TenantError(_("%(value)s is not a valid codice fiscale.", value=tax_code), "tax_code")
    out["tax_code"] = tax_code
    postcode = out.get("postcode") or ""
    if postcode and country == "IT" and not POSTCODE_RE.match(postcode):
        raise TenantError(_("An Italian postcode (CAP) has 5 digits."), "postcode")
    province = (out.get("province") or "").upper()
    if province and not PROVINCE_RE.match(province):
        raise TenantError(_("Use the two-letter province code (e.g. BG)."), "province")
    out["province"] = province
    for key, limit in (("street", 200), ("city", 60), ("phone", 40), ("email", 254), ("pec", 254)):
        if len(out.get(key) or "") > limit:
            raise TenantError(_("At most %(n)d characters.", n=limit), key)
    return out


def update_firm(tenant: Tenant, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Save the firm's data; returns what changed (field -> [old, new]), also audited."""
    clean = _clean(values)
    before = firm_values(tenant)
    tenant.legal_name = clean["legal_name"]
    tenant.vat_number = clean["vat_number"]
    tenant.default_locale = clean["default_locale"]
    settings = dict(tenant.settings or {})
    fiscal = dict(settings.get("fiscal", {}) or {})
    fiscal.update({key: clean.get(key) or None for key in FISCAL_KEYS})
    settings["fiscal"] = fiscal
    contacts = dict(settings.get("firm", {}) or {})
    contacts.update({key: clean.get(key) or None for key in CONTACT_KEYS})
    settings["firm"] = contacts
    tenant.settings = settings  # a new dict, so the JSON column is written
    db.session.flush()
    after = firm_values(tenant)
    changes = {key: [before[key], after[key]] for key in after if before.get(key) != after[key]}
    if changes:
        audit.record("firm.updated", tenant, summary=changes)
    return changes


@dataclass
class Logo:
    content_type: str
    data: bytes
    sha256: str


def _image_kind(data: bytes) -> tuple[str, int, int] | None:
    """(content type, width, height) of a PNG or JPEG read from its bytes, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            length = int.from_bytes(data[index + 2 : index + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return "image/jpeg", width, height
            index += 2 + length
    return None


def save_logo(tenant: Tenant, filename: str, data: bytes) -> files.StoredFile:
    """Keep ``data`` as the firm's logo (replacing the previous one).

    The type is read from the bytes, not from the name or the browser's claim:
    only PNG and JPEG are printed, and a file that is not what it says is refused.
    """
    limit = max_logo_bytes()
    if not data:
        raise TenantError(_("Choose a PNG or JPEG image."), "logo")
    if len(data) > limit:
        raise TenantError(_("The logo is too large: at most %(kb)d KB.", kb=limit // 1024), "logo")
    kind = _image_kind(data)
    if kind is None or kind[1] == 0 or kind[2] == 0:
        raise TenantError(_("The logo must be a PNG or JPEG image."), "logo")
    content_type = kind[0]
    name = (filename or "logo").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:150] or "logo"
    try:
        stored = files.save_file(LOGO_PURPOSE, name, content_type, data, replace=True)
    except files.QuotaExceeded as exc:
        raise TenantError(str(exc), "logo") from exc
    except files.FileTooLarge as exc:
        raise TenantError(
            _("The logo is too large: at most %(kb)d KB.", kb=limit // 1024), "logo"
        ) from exc
    settings = dict(tenant.settings or {})
    settings["logo"] = {"sha256": stored.sha256, "content_type": content_type}
    tenant.settings = settings
    db.session.flush()
    audit.record(
        "firm.logo_uploaded",
        stored,
        summary={"filename": name, "size": len(data), "content_type": content_type},
    )
    return stored


def remove_logo(tenant: Tenant) -> None:
    from sqlalchemy import delete

    db.session.execute(delete(files.StoredFile).where(files.StoredFile.purpose == LOGO_PURPOSE))
    settings = dict(tenant.settings or {})
    settings.pop("logo", None)
    tenant.settings = settings
    db.session.flush()
    audit.record("firm.logo_removed", tenant)


def has_logo(tenant: Any) -> bool:
    """Whether the firm has a logo, read from its row (no query: the layout asks on every page)."""
    return bool(((getattr(tenant, "settings", None) or {}).get("logo") or {}).get("sha256"))


def logo_version(tenant: Any) -> str:
    return str(((getattr(tenant, "settings", None) or {}).get("logo") or {}).get("sha256", ""))[:12]


def current_logo() -> Logo | None:
    """The current firm's logo, or None."""
    stored = files.latest_file(LOGO_PURPOSE)
    if stored is None:
        return None
    return Logo(stored.content_type, stored.data, stored.sha256)
