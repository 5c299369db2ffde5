from decimal import Decimal

import pytest

from distretto.platform import workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db
from tests.support.sample.services import create_request


def test_sample_request_follows_default_workflow(make_tenant):
    tenant = make_tenant(modules=["sample"])
    with tenant_context(tenant):
        doc = create_request("Bolts", "12.50")
        assert doc.state == "draft"
        assert doc.number.startswith("SR-")
        workflow.apply(doc, "sample_request", "submit", role="staff")
        assert doc.state == "submitted"
        assert doc.note == "submitted"
        with pytest.raises(workflow.TransitionRefused):
            workflow.apply(doc, "sample_request", "approve", role="staff")
        workflow.apply(doc, "sample_request", "approve", role="owner")
        db.session.commit()
        assert [h.transition for h in workflow.history(doc, "sample_request")] == [
            "create",
            "submit",
            "approve",
        ]
        assert Decimal(doc.amount) == Decimal("12.50")
