"""FatturaPA (FPR12) XML: build, check the rules the XSD does not, validate against the XSD.

The official schema 1.2.3 ships inside the package (``schema/``) and is loaded
once per process. Every problem found before issuing is reported as
(where to fix it, what is missing), so the user is sent to the right page:
the firm's fiscal data, the customer's record, or the invoice itself.
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET  # noqa: S405 - we only build XML here; see validate()
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

NAMESPACE = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
SCHEMA_PATH = Path(__file__).parent / "schema" / "Schema_VFPR12_v1.2.3.xsd"
# The W3C XML-DSig schema the FatturaPA schema imports without a location (DTD removed).
DSIG_SCHEMA_PATH = Path(__file__).parent / "schema" / "xmldsig-core-schema.xsd"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
GENERIC_NATURE = {"N2", "N3", "N6"}
VALID_NATURE = {
    "N1",
    "N2.1",
    "N2.2",
    "N3.1",
    "N3.2",
    "N3.3",
    "N3.4",
    "N3.5",
    "N3.6",
    "N4",
    "N5",
    "N6.1",
    "N6.2",
    "N6.3",
    "N6.4",
    "N6.5",
    "N6.6",
    "N6.7",
    "N6.8",
    "N6.9",
    "N7",
}
REGIMES = {
    f"RF{n:02d}" for n in (1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
}
SDI_CODE_RE = re.compile(r"^[A-Z0-9]{7}$")
CAP_RE = re.compile(r"^\d{5}$")
PROVINCE_RE = re.compile(r"^[A-Z]{2}$")
TWO = Decimal("0.01")

_schema = None
_schema_lock = threading.Lock()


def schema() -> Any:
    """The FatturaPA XSD compiled by libxml2 (lxml), once, with the XML-DSig schema beside it.

    libxml2 validates an invoice in well under a millisecond, where a pure-Python
    validator took tens: validation runs at every issue, inside the transaction.
    """
    global _schema
    if _schema is None:
        with _schema_lock:
            if _schema is None:
                from lxml import etree

                parser = etree.XMLParser(resolve_entities=False, no_network=True)
                document = etree.parse(str(SCHEMA_PATH), parser)
                for element in document.getroot().iter(f"{{{XSD_NS}}}import"):
                    if element.get("namespace") == DSIG_NS:
                        element.set("schemaLocation", DSIG_SCHEMA_PATH.as_uri())
                _schema = etree.XMLSchema(document)
    return _schema


@dataclass(frozen=True)
class Problem:
    where: str  # "firm", "customer", "invoice", "line N"
    message: str

    def __str__(self) -> str:
        from flask_babel import gettext as _

        # "firm", "customer" and "invoice" are keys (the draft's page links them to the
        # page where the data is fixed); the message shows them in the user's language
        where = {
            "firm": _("Fiscal data"),
            "customer": _("Customer"),
            "invoice": _("Invoice"),
        }.get(self.where, self.where)
        return f"{where}: {self.message}"


class FatturaPAError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def amount(value: Decimal | int | str) -> str:
    return str(Decimal(value).quantize(TWO, rounding=ROUND_HALF_UP))


def price(value: Decimal | int | str) -> str:
    number = Decimal(value).normalize()
    exponent = number.as_tuple().exponent
    places = max(2, min(8, -exponent if isinstance(exponent, int) and exponent < 0 else 2))
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _latin(text: str | None, limit: int) -> str:
    """Fields typed *Latin* accept Latin-1 only; keep what fits."""
    value = (text or "").strip()
    value = (
        value.replace("€", "EUR")
        .replace("\u2019", "'")
        .replace("\u2013", "-")
        .replace("\u2014", "-")
    )
    value = value.encode("latin-1", "replace").decode("latin-1")
    return value[:limit]


@dataclass
class FirmData:
    vat_number: str
    name: str
    tax_code: str | None
    regime: str
    street: str | None
    postcode: str | None
    city: str | None
    province: str | None
    country: str = "IT"
    iban: str | None = None


def firm_data(tenant: Any) -> FirmData:
    settings = (getattr(tenant, "settings", None) or {}).get("fiscal", {})
    return FirmData(
        vat_number=tenant.vat_number,
        name=tenant.legal_name,
        tax_code=settings.get("tax_code") or None,
        regime=settings.get("regime") or "RF01",
        street=settings.get("street"),
        postcode=settings.get("postcode"),
        city=settings.get("city"),
        province=settings.get("province"),
        country=settings.get("country") or "IT",
        iban=settings.get("iban"),
    )


def check(invoice: Any, firm: FirmData, party: Any) -> list[Problem]:
    """The business rules SDI applies that the schema does not."""
    from flask_babel import gettext as _

    problems: list[Problem] = []
    if firm.regime not in REGIMES:
        problems.append(
            Problem("firm", _("the tax regime %(regime)s is not valid", regime=firm.regime))
        )
    for label, value in (
        (_("street"), firm.street),
        (_("postcode"), firm.postcode),
        (_("city"), firm.city),
    ):
        if not value:
            problems.append(
                Problem(
                    "firm",
                    _("the fiscal address lacks the %(part)s (Invoicing settings)", part=label),
                )
            )
    if firm.postcode and firm.country == "IT" and not CAP_RE.match(firm.postcode):
        problems.append(Problem("firm", _("the postcode must have 5 digits (Invoicing settings)")))
    if party is None:
        problems.append(Problem("customer", _("missing")))
        return problems
    italian = (party.country or "IT") == "IT"
    if italian:
        if not party.vat_number and not party.tax_code:
            problems.append(
                Problem(
                    "customer",
                    _("%(name)s has neither VAT number nor codice fiscale", name=party.legal_name),
                )
            )
        if not party.sdi_code and not party.pec:
            problems.append(
                Problem(
                    "customer",
                    _(
                        "%(name)s has neither SDI code nor PEC: add one to the customer's record",
                        name=party.legal_name,
                    ),
                )
            )
        if party.sdi_code and not SDI_CODE_RE.match(party.sdi_code):
            problems.append(Problem("customer", _("the SDI code must have 7 characters")))
        if party.sdi_code == "0000000" and not party.pec:
            problems.append(Problem("customer", _("SDI code 0000000 needs the customer's PEC")))
        if not party.postcode or not CAP_RE.match(party.postcode or ""):
            problems.append(
                Problem("customer", _("%(name)s needs a 5-digit postcode", name=party.legal_name))
            )
    elif not party.postcode:
        pass  # foreign customers get 00000
    if not party.street:
        problems.append(
            Problem("customer", _("%(name)s has no street address", name=party.legal_name))
        )
    if not party.city:
        problems.append(Problem("customer", _("%(name)s has no city", name=party.legal_name)))
    if not invoice.lines:
        problems.append(Problem("invoice", _("there are no lines")))
    for index, line in enumerate(invoice.lines, start=1):
        where = _("line %(num)d", num=index)
        rate = Decimal(line.vat_rate)
        if rate == 0 and not line.natura:
            problems.append(
                Problem(
                    where,
                    # a variable makes gettext apply %-formatting, so "0%%" reads "0%"
                    _(
                        "a 0%% VAT line needs a Natura code (choose an exempt VAT treatment)",
                        num=index,
                    ),
                )
            )
        if rate != 0 and line.natura:
            problems.append(Problem(where, _("a line with VAT cannot have a Natura code")))
        if line.natura in GENERIC_NATURE:
            problems.append(
                Problem(
                    where,
                    _(
                        "the generic Natura %(code)s is refused since 2021: use a sub-code",
                        code=line.natura,
                    ),
                )
            )
        elif line.natura and line.natura not in VALID_NATURE:
            problems.append(Problem(where, _("unknown Natura %(code)s", code=line.natura)))
    if invoice.split_payment and any(
        (line.natura or "").startswith("N6") for line in invoice.lines
    ):
        problems.append(
            Problem("invoice", _("split payment cannot be used with reverse charge lines"))
        )
    if invoice.is_credit_note and not invoice.corrects_id:
        problems.append(
            Problem("invoice", _("a credit note must reference the invoice it corrects"))
        )
    return problems


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _sede(
    parent: ET.Element,
    street: str | None,
    postcode: str | None,
    city: str | None,
    province: str | None,
    country: str,
) -> None:
    sede = _sub(parent, "Sede")
    _sub(sede, "Indirizzo", _latin(street, 60))
    _sub(sede, "CAP", postcode if postcode and CAP_RE.match(postcode) else "00000")
    _sub(sede, "Comune", _latin(city, 60))
    if province and country == "IT":
        _sub(sede, "Provincia", province.upper()[:2])
    _sub(sede, "Nazione", country or "IT")


def build(
    invoice: Any,
    firm: FirmData,
    party: Any,
    summary: list[Any],
    related: Any = None,
    progressive: str = "00001",
) -> str:
    """The FPR12 document as a string (UTF-8 declaration, namespace-qualified root)."""
    ET.register_namespace("p", NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}FatturaElettronica", {"versione": "FPR12"})
    header = _sub(root, "FatturaElettronicaHeader")
    transmission = _sub(header, "DatiTrasmissione")
    sender = _sub(transmission, "IdTrasmittente")
    _sub(sender, "IdPaese", "IT")
    _sub(sender, "IdCodice", firm.vat_number)
    _sub(transmission, "ProgressivoInvio", progressive[:10])
    _sub(transmission, "FormatoTrasmissione", "FPR12")
    italian = (party.country or "IT") == "IT"
    code = party.sdi_code if italian and party.sdi_code else ("0000000" if italian else "XXXXXXX")
    _sub(transmission, "CodiceDestinatario", code)
    if italian and code == "0000000" and party.pec:
        _sub(transmission, "PECDestinatario", party.pec)

    seller = _sub(header, "CedentePrestatore")
    seller_data = _sub(seller, "DatiAnagrafici")
    vat = _sub(seller_data, "IdFiscaleIVA")
    _sub(vat, "IdPaese", "IT")
    _sub(vat, "IdCodice", firm.vat_number)
    if firm.tax_code:
        _sub(seller_data, "CodiceFiscale", firm.tax_code)
    _sub(_sub(seller_data, "Anagrafica"), "Denominazione", _latin(firm.name, 80))
    _sub(seller_data, "RegimeFiscale", firm.regime)
    _sede(seller, firm.street, firm.postcode, firm.city, firm.province, firm.country)

    buyer = _sub(header, "CessionarioCommittente")
    buyer_data = _sub(buyer, "DatiAnagrafici")
    if party.vat_number:
        buyer_vat = _sub(buyer_data, "IdFiscaleIVA")
        _sub(buyer_vat, "IdPaese", party.country or "IT")
        _sub(buyer_vat, "IdCodice", party.vat_number)
    if party.tax_code:
        _sub(buyer_data, "CodiceFiscale", party.tax_code)
    _sub(_sub(buyer_data, "Anagrafica"), "Denominazione", _latin(party.legal_name, 80))
    _sede(buyer, party.street, party.postcode, party.city, party.province, party.country or "IT")

    body = _sub(root, "FatturaElettronicaBody")
    general = _sub(body, "DatiGenerali")
    document = _sub(general, "DatiGeneraliDocumento")
    _sub(document, "TipoDocumento", invoice.document_kind)
    _sub(document, "Divisa", "EUR")
    _sub(document, "Data", invoice.issue_date.isoformat())
    _sub(document, "Numero", invoice.number[:20])
    if Decimal(invoice.stamp_duty) > 0:
        stamp = _sub(document, "DatiBollo")
        _sub(stamp, "BolloVirtuale", "SI")
        _sub(stamp, "ImportoBollo", amount(invoice.stamp_duty))
    _sub(document, "ImportoTotaleDocumento", amount(invoice.total))
    if invoice.causale:
        _sub(document, "Causale", _latin(invoice.causale, 200))
    for reference in invoice.order_references or []:
        order = _sub(general, "DatiOrdineAcquisto")
        _sub(order, "IdDocumento", str(reference.get("number"))[:20])
        if reference.get("date"):
            _sub(order, "Data", reference["date"])
    if related is not None:
        linked = _sub(general, "DatiFattureCollegate")
        _sub(linked, "IdDocumento", related.number[:20])
        _sub(linked, "Data", related.issue_date.isoformat())
    for reference in invoice.ddt_references or []:
        ddt = _sub(general, "DatiDDT")
        _sub(ddt, "NumeroDDT", str(reference.get("number"))[:20])
        _sub(ddt, "DataDDT", reference["date"])
        for position in reference.get("lines", []):
            _sub(ddt, "RiferimentoNumeroLinea", position)

    goods = _sub(body, "DatiBeniServizi")
    for index, line in enumerate(invoice.lines, start=1):
        detail = _sub(goods, "DettaglioLinee")
        _sub(detail, "NumeroLinea", index)
        if line.product_code:
            article = _sub(detail, "CodiceArticolo")
            _sub(article, "CodiceTipo", "INTERNO")
            _sub(article, "CodiceValore", _latin(line.product_code, 35))
        _sub(detail, "Descrizione", _latin(line.description, 1000))
        _sub(detail, "Quantita", price(line.quantity))
        if line.unit:
            _sub(detail, "UnitaMisura", line.unit[:10])
        _sub(detail, "PrezzoUnitario", price(line.unit_price))
        if line.discount_percent and Decimal(line.discount_percent) > 0:
            discount = _sub(detail, "ScontoMaggiorazione")
            _sub(discount, "Tipo", "SC")
            _sub(discount, "Percentuale", amount(line.discount_percent))
        _sub(detail, "PrezzoTotale", amount(line.amount))
        _sub(detail, "AliquotaIVA", amount(line.vat_rate))
        if line.natura:
            _sub(detail, "Natura", line.natura)
    for row in summary:
        recap = _sub(goods, "DatiRiepilogo")
        _sub(recap, "AliquotaIVA", amount(row.rate))
        if row.natura:
            _sub(recap, "Natura", row.natura)
        _sub(recap, "ImponibileImporto", amount(row.taxable))
        _sub(recap, "Imposta", amount(row.vat))
        if not row.natura:
            _sub(recap, "EsigibilitaIVA", "S" if invoice.split_payment else "I")
        elif row.natura.startswith("N6"):
            _sub(recap, "RiferimentoNormativo", "Inversione contabile art. 17 DPR 633/72")
        elif row.natura == "N1":
            _sub(recap, "RiferimentoNormativo", "Escluso art. 15 DPR 633/72")
    if invoice.dues:
        payment = _sub(body, "DatiPagamento")
        _sub(payment, "CondizioniPagamento", "TP01" if len(invoice.dues) > 1 else "TP02")
        for due in invoice.dues:
            detail = _sub(payment, "DettaglioPagamento")
            _sub(detail, "ModalitaPagamento", due.method)
            _sub(detail, "DataScadenzaPagamento", due.due_date.isoformat())
            _sub(detail, "ImportoPagamento", amount(due.amount))
            if invoice.iban and due.method in ("MP05", "MP19", "MP21"):
                _sub(detail, "IBAN", invoice.iban.replace(" ", "").upper())
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def validate(xml: str) -> list[str]:
    """Schema errors of ``xml`` (empty when valid), each naming the line and the element.

    The text is parsed without entities, DTDs or network access (received invoices
    are untrusted input).
    """
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:  # the text is already decoded: its declaration's encoding no longer applies
        document = etree.fromstring(XML_DECLARATION.sub("", xml, count=1), parser)
    except etree.XMLSyntaxError as exc:
        return [f"line {exc.lineno}: {exc.msg}"]
    validator = schema()
    if validator.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in list(validator.error_log)[:20]]


def sdi_filename(vat_number: str, invoice_id: int) -> str:
    """IT + the firm's VAT number + _ + a 5-character progressive unique for the firm."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    value, encoded = int(invoice_id), ""
    while value:
        value, remainder = divmod(value, 36)
        encoded = digits[remainder] + encoded
    return f"IT{vat_number}_{(encoded or '0').rjust(5, '0')}.xml"
