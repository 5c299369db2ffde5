"""The business rules of conto lavoro, through its services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from distretto.sdk import db, workflow
from flask_babel import force_locale

from distretto_conto_lavoro import services
from distretto_conto_lavoro.models import Dispatch


def outstanding_table() -> dict[tuple[str, str], Decimal]:
    return {
        (subcontractor.name, row.item.code): row.outstanding
        for subcontractor, rows in services.outstanding_by_subcontractor()
        for row in rows
    }


def test_outstanding_is_sent_minus_returned_minus_scrap_per_subcontractor_and_item(
    firm, as_firm, valid_vat
):
    with as_firm(firm.tenant):
        other = services.create_subcontractor("Tornerie Bianchi", valid_vat()).id
    first, (bar_line, flange_line) = firm.dispatch([(firm.bar_id, "100.5"), (firm.flange_id, "40")])
    firm.dispatch([(firm.bar_id, "20")])
    firm.dispatch([(firm.flange_id, "10")], to=other)
    firm.dispatch([(firm.bar_id, "999")], send=False)  # a draft is not out yet

    with as_firm(firm.tenant):
        services.record_return(
            firm.subcontractor_id,
            "DDT 17",
            [(bar_line, "60", "0.5"), (flange_line, "38", "2")],
        )
        table = outstanding_table()

    assert table == {
        ("Tornerie Bianchi", "FL-100"): Decimal("10.000"),
        ("Zincatura Rossi", "BAR-01"): Decimal("60.000"),  # 100.5 + 20 - 60 - 0.5
    }


def test_a_return_cannot_exceed_what_is_still_out_on_the_line(firm, as_firm):
    _dispatch, (line,) = firm.dispatch([(firm.bar_id, "10")])
    with as_firm(firm.tenant):
        services.record_return(firm.subcontractor_id, "R1", [(line, "8", "")])
    with as_firm(firm.tenant), pytest.raises(services.ContoLavoroError) as refused:
        services.record_return(firm.subcontractor_id, "R2", [(line, "1.5", "0.501")])
    assert refused.value.field == "lines-0-quantity"
    assert "Only 2 kg of BAR-01" in str(refused.value)
    with as_firm(firm.tenant):
        services.record_return(firm.subcontractor_id, "R3", [(line, "1.5", "0.5")])
        assert outstanding_table() == {}


def test_the_same_line_twice_in_one_return_counts_both_rows(firm, as_firm):
    _dispatch, (line,) = firm.dispatch([(firm.flange_id, "10")])
    with as_firm(firm.tenant), pytest.raises(services.ContoLavoroError) as refused:
        services.record_return(firm.subcontractor_id, "R1", [(line, "6", ""), (line, "5", "")])
    assert refused.value.field == "lines-1-quantity"


def test_returns_only_count_against_sent_dispatches_of_that_subcontractor(firm, as_firm, valid_vat):
    with as_firm(firm.tenant):
        other = services.create_subcontractor("Tornerie Bianchi", valid_vat()).id
    _draft, (draft_line,) = firm.dispatch([(firm.bar_id, "5")], send=False)
    _sent, (sent_line,) = firm.dispatch([(firm.bar_id, "5")])
    for line, subcontractor in ((draft_line, firm.subcontractor_id), (sent_line, other)):
        with as_firm(firm.tenant), pytest.raises(services.ContoLavoroError, match="not material"):
            services.record_return(subcontractor, "R1", [(line, "1", "")])


def test_a_return_needs_something_on_some_line_and_no_future_date(firm, as_firm):
    _dispatch, (line,) = firm.dispatch([(firm.bar_id, "5")])
    with as_firm(firm.tenant):
        with pytest.raises(services.ContoLavoroError, match="at least one line"):
            services.record_return(firm.subcontractor_id, "R1", [(line, "", "0")])
        with pytest.raises(services.ContoLavoroError) as refused:
            services.record_return(
                firm.subcontractor_id, "R1", [(line, "1", "")], received_on=date(2999, 1, 1)
            )
        assert refused.value.field == "received_on"


def test_dispatch_numbers_are_gapless_and_given_when_the_material_leaves(firm, as_firm):
    first, _lines = firm.dispatch([(firm.bar_id, "1")], send=False)
    second, _lines = firm.dispatch([(firm.bar_id, "2")])
    with as_firm(firm.tenant):
        workflow.apply(db.session.get(Dispatch, first), "cl_dispatch", "send", role="staff")
    third, _lines = firm.dispatch([(firm.bar_id, "3")], send=False)
    year = date.today().year
    with as_firm(firm.tenant):
        numbers = {d.id: d.number for d in services.dispatches()}
        assert db.session.get(Dispatch, second).shipped_on == date.today()
    assert numbers == {second: f"CL-{year}-00001", first: f"CL-{year}-00002", third: None}


def test_closing_with_material_still_out_is_refused_and_says_what(firm, as_firm):
    dispatch_id, (line, _flange) = firm.dispatch([(firm.bar_id, "10"), (firm.flange_id, "4")])
    with as_firm(firm.tenant):
        services.record_return(firm.subcontractor_id, "R1", [(line, "10", "")])
        dispatch = db.session.get(Dispatch, dispatch_id)
        with pytest.raises(workflow.TransitionRefused, match="4 pz FL-100"):
            workflow.apply(dispatch, "cl_dispatch", "close", role="staff")
        assert dispatch.state == "sent"


def test_a_dispatch_closes_itself_when_everything_came_back(firm, as_firm):
    dispatch_id, (bar, flange) = firm.dispatch([(firm.bar_id, "10"), (firm.flange_id, "4")])
    with as_firm(firm.tenant):
        services.record_return(firm.subcontractor_id, "R1", [(bar, "9", "1")])
        assert db.session.get(Dispatch, dispatch_id).state == "sent"
    with as_firm(firm.tenant):
        services.record_return(firm.subcontractor_id, "R2", [(flange, "4", "")])
        dispatch = db.session.get(Dispatch, dispatch_id)
        assert dispatch.state == "closed"
        assert [h.transition for h in workflow.history(dispatch, "cl_dispatch")] == [
            "create",
            "send",
            "close",
        ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", "12.000"), ("12,5", "12.500"), ("1.234,5", "1234.500"), ("0.125", "0.125")],
)
def test_quantities_are_exact_decimals(raw, expected):
    assert services.parse_quantity(raw, "q") == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1.2345", "three decimals"),
        ("-1", "negative"),
        ("0", "more than zero"),
        ("lots", "not a number"),
        ("NaN", "not a number"),
        ("", "Enter a quantity"),
    ],
)
def test_bad_quantities_are_refused(app, raw, message):
    with force_locale("en"), pytest.raises(services.ContoLavoroError, match=message):
        services.parse_quantity(raw, "q")


def test_dispatch_needs_a_subcontractor_and_a_line(firm, as_firm):
    with as_firm(firm.tenant):
        with pytest.raises(services.ContoLavoroError) as refused:
            services.create_dispatch(None, "Turning", [(firm.bar_id, "1")])
        assert refused.value.field == "subcontractor_id"
        with pytest.raises(services.ContoLavoroError) as refused:
            services.create_dispatch(firm.subcontractor_id, "Turning", [("", ""), ("", "")])
        assert refused.value.field == "lines-0-item_id"
        with pytest.raises(services.ContoLavoroError) as refused:
            services.create_dispatch(
                firm.subcontractor_id, "Turning", [("", ""), (firm.bar_id, "x")]
            )
        assert refused.value.field == "lines-1-quantity"


def test_vat_numbers_are_checked_and_stored_compact(firm, as_firm):
    with as_firm(firm.tenant):
        italian = services.create_subcontractor("Rossi", "IT 00743110157")
        german = services.create_subcontractor("Müller GmbH", "de 136 695 976")
        assert (italian.vat_number, german.vat_number) == ("00743110157", "DE136695976")
        with pytest.raises(services.ContoLavoroError, match="not a valid VAT") as refused:
            services.create_subcontractor("Bad", "00743110158")
        assert refused.value.field == "vat_number"
        with pytest.raises(services.ContoLavoroError, match="already exists"):
            services.create_subcontractor("Rossi again", "00743110157")


def test_item_codes_are_unique_per_firm_not_across_firms(firm, tenant_client, as_firm):
    with as_firm(firm.tenant), pytest.raises(services.ContoLavoroError, match="already used"):
        services.create_item("bar-01", "Another bar", "kg")
    _client, other, _user = tenant_client("staff", modules=["conto_lavoro"])
    with as_firm(other):
        assert services.create_item("BAR-01", "Their bar", "kg").code == "BAR-01"


def test_another_firm_sees_none_of_the_first_firms_material(firm, tenant_client, as_firm):
    dispatch_id, _lines = firm.dispatch([(firm.bar_id, "10")])
    _client, other, _user = tenant_client("staff", modules=["conto_lavoro"])
    with as_firm(other):
        assert services.outstanding_by_subcontractor() == []
        assert services.dispatches() == []
        assert db.session.get(Dispatch, dispatch_id) is None


def test_the_migration_creates_exactly_the_tables_the_models_describe(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def ours(name, type_, parent_names):
        table = name if type_ == "table" else parent_names.get("table_name")
        return table is None or table.startswith("conto_lavoro_")

    def our_object(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name.startswith("conto_lavoro_")

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": ours, "include_object": our_object, "compare_type": True},
        )
        differences = compare_metadata(context, db.metadata)
    assert [d for d in differences if "conto_lavoro_" in repr(d)] == []
