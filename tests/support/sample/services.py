from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from distretto.platform import audit, customfields, numbering, workflow
from tests.support.sample.models import SampleRequest


def create_request(
    title: str,
    amount: Decimal | str,
    custom: dict[str, Any] | None = None,
    due_on: date | None = None,
) -> SampleRequest:
    request = SampleRequest(
        title=title,
        amount=Decimal(str(amount)),
        due_on=due_on,
        custom=customfields.clean("sample_request", custom or {}),
    )
    request.number = numbering.next_number("sample_request")[1]
    workflow.start(request, "sample_request")
    audit.record("sample_request.created", request, summary={"title": title})
    return request
