"""What every firm gets when it enables the catalog: VAT rates and payment terms.

The generic Natura codes N2, N3 and N6 are refused by SDI since 2021, so only
their sub-codes are offered.
"""

from __future__ import annotations

from decimal import Decimal

VAT_RATES = [
    ("22", "IVA 22%", "22", None),
    ("10", "IVA 10%", "10", None),
    ("5", "IVA 5%", "5", None),
    ("4", "IVA 4%", "4", None),
    ("N1", "Escluse ex art. 15 DPR 633/72", "0", "N1"),
    ("N2.1", "Non soggette - artt. da 7 a 7-septies DPR 633/72", "0", "N2.1"),
    ("N2.2", "Non soggette - altri casi", "0", "N2.2"),
    ("N3.1", "Non imponibili - esportazioni", "0", "N3.1"),
    ("N3.2", "Non imponibili - cessioni intracomunitarie", "0", "N3.2"),
    ("N3.3", "Non imponibili - cessioni verso San Marino", "0", "N3.3"),
    ("N3.4", "Non imponibili - operazioni assimilate alle esportazioni", "0", "N3.4"),
    ("N3.5", "Non imponibili - a seguito di dichiarazioni d'intento", "0", "N3.5"),
    ("N3.6", "Non imponibili - altre operazioni", "0", "N3.6"),
    ("N4", "Esenti art. 10 DPR 633/72", "0", "N4"),
    ("N5", "Regime del margine / IVA non esposta", "0", "N5"),
    ("N6.1", "Inversione contabile - cessione di rottami", "0", "N6.1"),
    ("N6.2", "Inversione contabile - cessione di oro e argento", "0", "N6.2"),
    ("N6.3", "Inversione contabile - subappalto nel settore edile", "0", "N6.3"),
    ("N6.4", "Inversione contabile - cessione di fabbricati", "0", "N6.4"),
    ("N6.5", "Inversione contabile - cessione di telefoni cellulari", "0", "N6.5"),
    ("N6.6", "Inversione contabile - cessione di prodotti elettronici", "0", "N6.6"),
    ("N6.7", "Inversione contabile - prestazioni comparto edile", "0", "N6.7"),
    ("N6.8", "Inversione contabile - operazioni settore energetico", "0", "N6.8"),
    ("N6.9", "Inversione contabile - altri casi", "0", "N6.9"),
    ("N7", "IVA assolta in altro stato UE", "0", "N7"),
]

PAYMENT_TERMS = [
    ("RD", "Rimessa diretta", "MP01", [{"days": 0, "end_of_month": False, "percent": "100"}]),
    (
        "BB30",
        "Bonifico 30 gg data fattura",
        "MP05",
        [{"days": 30, "end_of_month": False, "percent": "100"}],
    ),
    (
        "BB30FM",
        "Bonifico 30 gg fine mese",
        "MP05",
        [{"days": 30, "end_of_month": True, "percent": "100"}],
    ),
    (
        "RB3060",
        "RiBa 30/60 gg fine mese",
        "MP12",
        [
            {"days": 30, "end_of_month": True, "percent": "50"},
            {"days": 60, "end_of_month": True, "percent": "50"},
        ],
    ),
    (
        "RB306090",
        "RiBa 30/60/90 gg fine mese",
        "MP12",
        [
            {"days": 30, "end_of_month": True, "percent": "33.33"},
            {"days": 60, "end_of_month": True, "percent": "33.33"},
            {"days": 90, "end_of_month": True, "percent": "33.34"},
        ],
    ),
]


def seed_catalog(_row: object = None) -> None:
    """Idempotent: adds what is missing, never overwrites the firm's edits."""
    from sqlalchemy import select

    from distretto.modules.catalog.models import PaymentTerms, VatRate
    from distretto.sdk import db

    have = set(db.session.execute(select(VatRate.code)).scalars())
    for code, description, rate, natura in VAT_RATES:
        if code not in have:
            db.session.add(
                VatRate(code=code, description=description, rate=Decimal(rate), natura=natura)
            )
    have_terms = set(db.session.execute(select(PaymentTerms.code)).scalars())
    for code, description, method, instalments in PAYMENT_TERMS:
        if code not in have_terms:
            db.session.add(
                PaymentTerms(
                    code=code, description=description, method=method, instalments=instalments
                )
            )
    db.session.flush()
