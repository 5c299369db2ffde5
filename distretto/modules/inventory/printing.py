"""The transport document (DDT) as printed to travel with the goods (DPR 472/1996)."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from distretto.modules.catalog.models import Party
from distretto.modules.inventory.models import Shipment
from distretto.platform.pdf import (
    Column,
    PrintedDocument,
    firm_lines,
    fmt_amount,
    fmt_quantity,
    render,
)
from distretto.sdk import current_tenant, db


def transport_document_pdf(shipment: Shipment) -> bytes:
    party = db.session.get(Party, shipment.party_id)
    tenant = current_tenant._get_current_object()  # type: ignore[attr-defined]
    locale = tenant.default_locale or "it"
    with force_locale(locale):
        meta = [
            (_("Reason for transport"), shipment.reason),
            (_("Transport by"), shipment.carrier),
        ]
        if shipment.source_number:
            meta.append((_("Order"), shipment.source_number))
        if shipment.packages:
            meta.append((_("Packages"), str(shipment.packages)))
        if shipment.weight_kg:
            meta.append((_("Weight (kg)"), fmt_amount(shipment.weight_kg, locale)))
        if shipment.appearance:
            meta.append((_("Appearance of goods"), shipment.appearance))
        blocks = []
        if shipment.destination:
            blocks.append((_("Destination"), [shipment.destination]))
        document = PrintedDocument(
            title=_("Transport document"),
            number=shipment.number or "",
            issued_on=shipment.shipment_date,
            firm_name=tenant.legal_name,
            firm_lines=firm_lines(tenant),
            party_title=_("Recipient"),
            party_name=party.legal_name if party else "",
            party_lines=[
                x
                for x in (
                    party.address_line if party else "",
                    f"P.IVA {party.vat_number}" if party and party.vat_number else "",
                )
                if x
            ],
            columns=[
                Column(_("Description"), 130),
                Column(_("Unit"), 18),
                Column(_("Quantity"), 34, "R"),
            ],
            rows=[
                [line.description, line.unit, fmt_quantity(line.quantity, locale)]
                for line in shipment.lines
            ],
            meta=meta,
            notes=[shipment.notes] if shipment.notes else [],
            extra_blocks=blocks,
            footer=_("Signature of the carrier and of the recipient") + ": ______________________",
            locale=locale,
        )
        return render(document)
