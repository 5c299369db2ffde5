"""The workflow engine: per-firm versions, guarded transitions, rollback, history, events."""

import copy
from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text

from distretto.platform import events, workflow
from distretto.platform.context import tenant_context
from distretto.platform.db import db, utcnow
from distretto.platform.documents import ActionError
from distretto.platform.modules import disable_module, enable_module, registry
from distretto.platform.workflow import WorkflowHistory
from distretto.testing.plugin import csrf_token
from tests.support import sample
from tests.support.sample import DEFAULT_WORKFLOW
from tests.support.sample.models import SampleRequest
from tests.support.sample.services import create_request

DOC = "sample_request"


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


def settle() -> None:
    """End the test session's transaction, as a request ends its own.

    On SQLite (WAL) a read transaction begun before a request committed cannot
    then write ("database is locked"); a real request never outlives another.
    """
    db.session.commit()


def approval_above(limit: str = "1000") -> dict:
    """The sample default plus a director's approval for requests above ``limit``."""
    data = copy.deepcopy(DEFAULT_WORKFLOW)
    data["states"].insert(
        2,
        {
            "name": "director_review",
            "label": {"it": "Revisione direzione", "en": "Director review"},
            "locked_fields": ["amount"],
        },
    )
    approve = next(t for t in data["transitions"] if t["name"] == "approve")
    approve["conditions"] = {"field": "amount", "op": "<=", "value": limit}
    data["transitions"] += [
        {
            "name": "escalate",
            "label": "Send to the director",
            "from": ["submitted"],
            "to": "director_review",
            "permission": "sample.edit",
            "conditions": {"field": "amount", "op": ">", "value": limit},
        },
        {
            "name": "director_approve",
            "label": "Director approves",
            "from": ["director_review"],
            "to": "approved",
            "permission": "sample.approve",
        },
    ]
    return data


def with_actions_on_approve(*actions: dict) -> dict:
    data = copy.deepcopy(DEFAULT_WORKFLOW)
    approve = next(t for t in data["transitions"] if t["name"] == "approve")
    approve["actions"] = list(actions)
    return data


def fresh(document: SampleRequest) -> SampleRequest:
    """The document as the database has it now (outside the test's transaction)."""
    document_id = document.id
    settle()
    return db.session.get(SampleRequest, document_id)


def transition_names(document) -> dict[str, bool]:
    return {t.name: t.allowed for t in workflow.available_transitions(document, DOC, "owner")}


def post_transition(client, tenant, document_id: int, name: str, comment: str | None = None):
    page = f"/{tenant.slug}/sample/{document_id}"
    data = {"csrf_token": csrf_token(client, page)}
    if comment is not None:
        data["comment"] = comment
    return client.post(f"{page}/transitions/{name}", data=data)


# --- two firms, two workflows ---------------------------------------------------------


def test_two_firms_on_one_app_each_follow_their_own_workflow(tenant_client):
    client_a, firm_a, _owner_a = tenant_client("owner", modules=["sample"])
    client_b, firm_b, _owner_b = tenant_client("owner", modules=["sample"])
    settle()
    with tenant_context(firm_b):
        published = workflow.publish(DOC, approval_above("1000"))
        assert published.version == 2
        big_b = create_request("Castings", "5000")
        small_b = create_request("Washers", "300")
        big_b_id, small_b_id = big_b.id, small_b.id
    with tenant_context(firm_a):
        big_a = create_request("Castings", "5000")
        big_a_id = big_a.id
    db.session.commit()

    for client, firm, doc_id in (
        (client_a, firm_a, big_a_id),
        (client_b, firm_b, big_b_id),
        (client_b, firm_b, small_b_id),
    ):
        assert post_transition(client, firm, doc_id, "submit").status_code == 302

    # firm A: the module default, no extra step
    assert post_transition(client_a, firm_a, big_a_id, "approve").status_code == 302
    # firm B: above 1000 the plain approval is refused and the director must approve
    refused = post_transition(client_b, firm_b, big_b_id, "approve")
    assert refused.status_code == 303
    page = client_b.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Condition not met: Amount &lt;= 1000." in page
    assert post_transition(client_b, firm_b, big_b_id, "escalate").status_code == 302
    assert post_transition(client_b, firm_b, big_b_id, "director_approve").status_code == 302
    # and below 1000 firm B approves directly
    assert post_transition(client_b, firm_b, small_b_id, "approve").status_code == 302

    settle()
    with tenant_context(firm_a):
        doc = db.session.get(SampleRequest, big_a_id)
        assert doc.state == "approved"
        assert [h.transition for h in workflow.history(doc, DOC)] == [
            "create",
            "submit",
            "approve",
        ]
        assert workflow.current_definition(DOC).version == 1
    with tenant_context(firm_b):
        doc = db.session.get(SampleRequest, big_b_id)
        assert doc.state == "approved"
        assert [h.transition for h in workflow.history(doc, DOC)] == [
            "create",
            "submit",
            "escalate",
            "director_approve",
        ]
        small = db.session.get(SampleRequest, small_b_id)
        assert [h.transition for h in workflow.history(small, DOC)][-1] == "approve"


def test_available_transitions_differ_per_firm_for_the_same_state(make_tenant):
    firm_a, firm_b = make_tenant(modules=["sample"]), make_tenant(modules=["sample"])
    with tenant_context(firm_b):
        workflow.publish(DOC, approval_above("1000"))
        doc_b = create_request("Castings", "5000")
        workflow.apply(doc_b, DOC, "submit", role="owner")
        assert transition_names(doc_b) == {"approve": False, "reject": True, "escalate": True}
    with tenant_context(firm_a):
        doc_a = create_request("Castings", "5000")
        workflow.apply(doc_a, DOC, "submit", role="owner")
        assert transition_names(doc_a) == {"approve": True, "reject": True}


# --- versions -------------------------------------------------------------------------


def test_a_document_started_on_version_1_finishes_on_version_1(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        early = create_request("Castings", "5000")
        workflow.apply(early, DOC, "submit", role="owner")
        v1 = workflow.current_definition(DOC)
        v2 = workflow.publish(DOC, approval_above("1000"))
        db.session.commit()

        # version 2 would refuse this approval (amount above 1000), version 1 does not
        workflow.apply(early, DOC, "approve", role="owner")
        workflow.apply(early, DOC, "close", role="owner")
        db.session.commit()
        early = fresh(early)
        assert early.state == "done"
        assert early.workflow_id == v1.id
        assert {h.workflow_id for h in workflow.history(early, DOC)} == {v1.id}

        late = create_request("Castings", "5000")
        workflow.apply(late, DOC, "submit", role="owner")
        assert late.workflow_id == v2.id
        with pytest.raises(workflow.TransitionRefused, match="Condition not met"):
            workflow.apply(late, DOC, "approve", role="owner")


def test_migrating_moves_in_progress_documents_with_the_mapping(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        finished = create_request("Done already", "5000")
        for step in ("submit", "approve", "close"):
            workflow.apply(finished, DOC, step, role="owner")
        drafted = create_request("Still a draft", "5000")
        submitted = create_request("Waiting", "5000")
        workflow.apply(submitted, DOC, "submit", role="owner")
        v1 = workflow.current_definition(DOC)
        v2 = workflow.publish(DOC, approval_above("1000"))
        assert workflow.states_in_use(DOC, 1) == {"draft": 1, "submitted": 1}

        moved = workflow.migrate_documents(
            DOC, 1, 2, {"draft": "draft", "submitted": "director_review"}
        )
        db.session.commit()

        assert moved == 2
        drafted, submitted, finished = fresh(drafted), fresh(submitted), fresh(finished)
        assert (drafted.workflow_id, drafted.state) == (v2.id, "draft")
        assert (submitted.workflow_id, submitted.state) == (v2.id, "director_review")
        assert (finished.workflow_id, finished.state) == (v1.id, "done")
        last = workflow.history(submitted, DOC)[-1]
        assert (last.transition, last.from_state, last.to_state) == (
            "migrate",
            "submitted",
            "director_review",
        )
        assert last.comment == "v1 -> v2"
        # it now follows version 2
        workflow.apply(submitted, DOC, "director_approve", role="owner")
        assert submitted.state == "approved"
        assert workflow.states_in_use(DOC, 1) == {}


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"draft": "draft"}, ["state 'submitted' is in use on version 1 but not mapped"]),
        (
            {"draft": "draft", "submitted": "in_review"},
            ["state 'submitted' maps to 'in_review', which version 2 lacks"],
        ),
        (
            {"draft": "nowhere", "submitted": "submitted", "sent": "submitted"},
            [
                "state 'sent' is mapped but version 1 has no such state",
                "state 'draft' maps to 'nowhere', which version 2 lacks",
            ],
        ),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_state_and_nothing_moves(
    make_tenant, mapping, expected
):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        drafted = create_request("Draft", "10")
        submitted = create_request("Submitted", "10")
        workflow.apply(submitted, DOC, "submit", role="owner")
        v1 = workflow.current_definition(DOC)
        workflow.publish(DOC, approval_above("1000"))
        db.session.commit()

        with pytest.raises(workflow.DefinitionError) as refused:
            workflow.migrate_documents(DOC, 1, 2, mapping)
        assert refused.value.problems == expected
        db.session.commit()

        assert {fresh(drafted).workflow_id, fresh(submitted).workflow_id} == {v1.id}
        assert fresh(submitted).state == "submitted"
        migrations = db.session.execute(
            select(func.count()).where(WorkflowHistory.transition == "migrate")
        ).scalar_one()
        assert migrations == 0


def test_migrating_to_a_missing_or_the_same_version_is_refused(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        create_request("Draft", "10")
        with pytest.raises(workflow.DefinitionError, match="version 7 does not exist"):
            workflow.migrate_documents(DOC, 1, 7, {"draft": "draft"})
        with pytest.raises(workflow.DefinitionError, match="already on that version"):
            workflow.migrate_documents(DOC, 1, 1, {"draft": "draft"})


def test_a_firm_cannot_migrate_or_see_another_firms_versions(make_tenant):
    firm_a, firm_b = make_tenant(modules=["sample"]), make_tenant(modules=["sample"])
    with tenant_context(firm_a):
        create_request("A's draft", "10")
        workflow.publish(DOC, approval_above())
    db.session.commit()
    with tenant_context(firm_b):
        assert workflow.versions(DOC) == []
        with pytest.raises(workflow.DefinitionError, match="version 2 does not exist"):
            workflow.migrate_documents(DOC, 1, 2, {"draft": "draft"})


# --- a failing action -------------------------------------------------------------------


def test_a_failing_action_rolls_its_transition_back_with_the_actions_message(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        workflow.publish(
            DOC,
            with_actions_on_approve(
                {"name": "sample.stamp", "params": {"note": "approved"}},
                {"name": "sample.fail", "params": {"message": "Stock is short for M8 bolts"}},
            ),
        )
        doc = create_request("Bolts", "10")
        workflow.apply(doc, DOC, "submit", role="owner")
        db.session.commit()

        with pytest.raises(workflow.TransitionRefused) as refused:
            workflow.apply(doc, DOC, "approve", role="owner")
        assert str(refused.value) == "Stock is short for M8 bolts"
        assert refused.value.code == "action_failed"
        assert doc.state == "submitted"
        assert doc.note == "submitted"
        assert [h.transition for h in workflow.history(doc, DOC)] == ["create", "submit"]
        db.session.commit()
        assert (fresh(doc).state, fresh(doc).note) == ("submitted", "submitted")


def test_the_failing_actions_message_reaches_the_user(tenant_client):
    client, firm, _user = tenant_client("owner", modules=["sample"])
    settle()
    with tenant_context(firm):
        workflow.publish(
            DOC,
            with_actions_on_approve(
                {"name": "sample.fail", "params": {"message": "The press is booked until May"}}
            ),
        )
        doc = create_request("Bolts", "10")
        workflow.apply(doc, DOC, "submit", role="owner")
        doc_id = doc.id
    db.session.commit()
    response = post_transition(client, firm, doc_id, "approve")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The press is booked until May" in page
    assert '<p id="state">submitted</p>' in page


def test_the_savepoint_really_rolls_back_flushed_changes(make_tenant, distretto_database):
    """The action writes to the database inside the SAVEPOINT before failing.

    On SQLite this only works with the pysqlite recipe in db.py (the driver's
    own transaction handling is switched off and BEGIN is emitted explicitly);
    without it the SAVEPOINT would not roll anything back.
    """
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        workflow.publish(
            DOC,
            with_actions_on_approve(
                {"name": "sample.stamp", "params": {"note": "approved"}},
                {"name": "sample.fail", "params": {"flush": True, "message": "no"}},
            ),
        )
        doc = create_request("Bolts", "10")
        doc_id = doc.id
        workflow.apply(doc, DOC, "submit", role="owner")
        db.session.flush()
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            assert connection.connection.dbapi_connection.isolation_level is None

        with pytest.raises(workflow.TransitionRefused):
            workflow.apply(doc, DOC, "approve", role="owner")
        # same transaction, after the rollback to the savepoint: the flushed write is gone
        row = db.session.execute(
            text("SELECT state, note FROM sample_requests WHERE id = :id"), {"id": doc_id}
        ).one()
        assert tuple(row) == ("submitted", "submitted")
        db.session.commit()
    with distretto_database.owner_engine.connect() as other:
        row = other.execute(
            text("SELECT state, note FROM sample_requests WHERE id = :id"), {"id": doc_id}
        ).one()
        history = other.execute(
            text("SELECT transition FROM workflow_history WHERE document_id = :id ORDER BY id"),
            {"id": doc_id},
        ).scalars()
        assert tuple(row) == ("submitted", "submitted")
        assert list(history) == ["create", "submit"]


def test_a_handler_refusing_after_the_history_was_written_leaves_no_history_row(make_tenant):
    firm = make_tenant(modules=["sample"])

    def refuse(**payload):
        raise ActionError("The customer's credit is blocked")

    with tenant_context(firm):
        doc = create_request("Bolts", "10")
        workflow.apply(doc, DOC, "submit", role="owner")
        before = db.session.execute(select(func.count(WorkflowHistory.id))).scalar_one()
        with events.subscribed("sample_request.approve", refuse):
            with pytest.raises(workflow.TransitionRefused, match="credit is blocked"):
                workflow.apply(doc, DOC, "approve", role="owner")
        after = db.session.execute(select(func.count(WorkflowHistory.id))).scalar_one()
        assert after == before
        assert doc.state == "submitted"
        workflow.apply(doc, DOC, "approve", role="owner")  # unsubscribed: it goes through
        assert doc.state == "approved"


# --- guards -----------------------------------------------------------------------------


def test_the_permission_guard_follows_the_role(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        doc = create_request("Bolts", "10")
        with pytest.raises(workflow.TransitionRefused, match="role does not allow"):
            workflow.apply(doc, DOC, "submit", role="viewer")
        workflow.apply(doc, DOC, "submit", role="staff")
        available = {t.name: t for t in workflow.available_transitions(doc, DOC, "staff")}
        assert available["approve"].allowed is False
        assert available["approve"].reason == "Your role does not allow this step."
        with pytest.raises(workflow.TransitionRefused, match="role does not allow"):
            workflow.apply(doc, DOC, "approve", role="staff")
        with pytest.raises(workflow.TransitionRefused, match="role does not allow"):
            workflow.apply(doc, DOC, "approve", role=None)
        workflow.apply(doc, DOC, "approve", role=workflow.SYSTEM)
        assert doc.state == "approved"


def test_a_staff_member_gets_the_refusal_over_http(tenant_client, make_user, login):
    _owner_client, firm, _owner = tenant_client("owner", modules=["sample"])
    staff = login(make_user(firm, "staff"))
    settle()
    with tenant_context(firm):
        doc = create_request("Bolts", "10")
        workflow.apply(doc, DOC, "submit", role="owner")
        doc_id = doc.id
    db.session.commit()
    page = staff.get(f"/{firm.slug}/sample/{doc_id}").get_data(as_text=True)
    assert 'disabled title="Your role does not allow this step."' in page
    assert post_transition(staff, firm, doc_id, "approve").status_code == 303
    settle()
    with tenant_context(firm):
        assert db.session.get(SampleRequest, doc_id).state == "submitted"


def test_the_condition_guard_uses_the_documents_fields(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        free = create_request("Free sample", "0")
        with pytest.raises(workflow.TransitionRefused) as refused:
            workflow.apply(free, DOC, "submit", role="owner")
        assert str(refused.value) == "Condition not met: Amount > 0."
        assert free.state == "draft"
        free.amount = Decimal("0.01")
        workflow.apply(free, DOC, "submit", role="owner")
        assert free.state == "submitted"


def test_a_condition_on_a_custom_field(make_tenant):
    from distretto.platform import customfields

    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        customfields.define(DOC, {"name": "urgent", "label": "Urgent", "type": "boolean"})
        data = copy.deepcopy(DEFAULT_WORKFLOW)
        data["transitions"][1]["conditions"] = {
            "any": [
                {"field": "urgent", "op": "==", "value": False},
                {"field": "amount", "op": "<", "value": "100"},
            ]
        }
        workflow.publish(DOC, data)
        rush = create_request("Rush", "500", custom={"urgent": "yes"})
        calm = create_request("Calm", "500", custom={"urgent": "no"})
        for doc in (rush, calm):
            workflow.apply(doc, DOC, "submit", role="owner")
        with pytest.raises(workflow.TransitionRefused, match=r"Urgent == False"):
            workflow.apply(rush, DOC, "approve", role="owner")
        workflow.apply(calm, DOC, "approve", role="owner")
        assert (rush.state, calm.state) == ("submitted", "approved")


def test_steps_from_the_wrong_state_or_unknown_steps_are_refused(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        doc = create_request("Bolts", "10")
        with pytest.raises(workflow.TransitionRefused, match="Not possible from the state draft"):
            workflow.apply(doc, DOC, "approve", role="owner")
        with pytest.raises(workflow.TransitionRefused) as refused:
            workflow.apply(doc, DOC, "teleport", role="owner")
        assert refused.value.code == "unknown"


def test_comment_required_refuses_a_missing_or_blank_comment(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        doc = create_request("Bolts", "10")
        workflow.apply(doc, DOC, "submit", role="owner")
        for comment in (None, "", "   "):
            with pytest.raises(workflow.TransitionRefused) as refused:
                workflow.apply(doc, DOC, "reject", role="owner", comment=comment)
            assert refused.value.code == "comment_required"
        record = workflow.apply(doc, DOC, "reject", role="owner", comment="  Wrong alloy  ")
        assert record.comment == "Wrong alloy"
        assert doc.state == "rejected"


def test_history_records_who_when_from_to_and_comment(make_tenant, make_user):
    firm = make_tenant(modules=["sample"])
    clerk, manager = make_user(firm, "staff"), make_user(firm, "owner")
    started = utcnow()
    with tenant_context(firm, actor_id=clerk.id):
        doc = create_request("Bolts", "10")
        workflow.apply(doc, DOC, "submit", role="staff", comment="please check")
    with tenant_context(firm, actor_id=manager.id):
        workflow.apply(doc, DOC, "reject", role="owner", comment="Wrong alloy")
        db.session.commit()
        rows = [
            (h.transition, h.from_state, h.to_state, h.user_id, h.comment)
            for h in workflow.history(doc, DOC)
        ]
        assert rows == [
            ("create", None, "draft", clerk.id, None),
            ("submit", "draft", "submitted", clerk.id, "please check"),
            ("reject", "submitted", "rejected", manager.id, "Wrong alloy"),
        ]
        for entry in workflow.history(doc, DOC):
            assert started - timedelta(seconds=1) <= entry.created_at <= utcnow()


def test_history_over_http_names_the_signed_in_member(tenant_client):
    client, firm, owner = tenant_client("owner", modules=["sample"])
    owner_id = owner.id
    settle()
    with tenant_context(firm):
        doc_id = create_request("Bolts", "10").id
    db.session.commit()
    assert post_transition(client, firm, doc_id, "submit").status_code == 302
    settle()
    with tenant_context(firm):
        doc = db.session.get(SampleRequest, doc_id)
        last = workflow.history(doc, DOC)[-1]
        assert (last.transition, last.user_id) == ("submit", owner_id)


# --- events -----------------------------------------------------------------------------


def test_the_modules_event_handler_runs_only_while_the_module_is_enabled(make_tenant):
    sample.events_seen.clear()
    seen_by_kernel = []

    def kernel_listener(**payload):
        seen_by_kernel.append(payload["transition"])

    firm = make_tenant(modules=["sample"])
    with tenant_context(firm), events.subscribed("workflow.transitioned", kernel_listener):
        first = create_request("First", "10")
        second = create_request("Second", "10")
        for doc in (first, second):
            workflow.apply(doc, DOC, "submit", role="owner")
        workflow.apply(first, DOC, "approve", role="owner")
        assert sample.events_seen == [("sample_request.approve", first.id)]

        disable_module("sample")
        workflow.apply(second, DOC, "approve", role="owner")
        assert sample.events_seen == [("sample_request.approve", first.id)]
        assert second.state == "approved"

        enable_module("sample")
        workflow.apply(second, DOC, "close", role="owner")
        workflow.apply(first, DOC, "close", role="owner")
        assert sample.events_seen == [("sample_request.approve", first.id)]
    assert seen_by_kernel == ["submit", "submit", "approve", "approve", "close", "close"]
    sample.events_seen.clear()


def test_another_firm_without_the_module_does_not_run_its_handlers(make_tenant):
    sample.events_seen.clear()
    with_module, without = make_tenant(modules=["sample"]), make_tenant()
    with tenant_context(without):
        events.emit("sample_request.approve", document=type("Doc", (), {"id": 99})())
    assert sample.events_seen == []
    with tenant_context(with_module):
        events.emit("sample_request.approve", document=type("Doc", (), {"id": 99})())
    assert sample.events_seen == [("sample_request.approve", 99)]
    sample.events_seen.clear()


# --- the module's default evolves -------------------------------------------------------


def changed_default() -> dict:
    data = copy.deepcopy(DEFAULT_WORKFLOW)
    data["states"].insert(3, {"name": "on_hold", "label": {"it": "Sospesa", "en": "On hold"}})
    data["transitions"].append(
        {"name": "hold", "label": "Hold", "from": ["approved"], "to": "on_hold"}
    )
    data["transitions"].append(
        {"name": "resume", "label": "Resume", "from": ["on_hold"], "to": "approved"}
    )
    data["transitions"][1]["permission"] = "sample.edit"
    return data


def test_a_firm_that_never_customised_follows_a_changed_default(make_tenant, monkeypatch):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        before = create_request("Before", "10")
        db.session.commit()
        monkeypatch.setattr(registry.document_types[DOC], "default_workflow", changed_default())

        current = workflow.current_definition(DOC)
        assert (current.version, current.source) == (2, "default")
        assert workflow.pending_default_change(DOC) is None
        after = create_request("After", "10")
        workflow.apply(after, DOC, "submit", role="staff")
        workflow.apply(after, DOC, "approve", role="staff")  # the new default allows staff
        workflow.apply(after, DOC, "hold", role="staff")
        assert after.state == "on_hold"
        # the document started before keeps the old version
        workflow.apply(before, DOC, "submit", role="staff")
        with pytest.raises(workflow.TransitionRefused, match="role does not allow"):
            workflow.apply(before, DOC, "approve", role="staff")
        assert [v.version for v in workflow.versions(DOC)] == [2, 1]


def test_a_firm_that_customised_keeps_its_own_and_sees_the_diff(make_tenant, monkeypatch):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        own = workflow.publish(DOC, approval_above("2000"))
        assert workflow.pending_default_change(DOC) is None
        db.session.commit()
        monkeypatch.setattr(registry.document_types[DOC], "default_workflow", changed_default())

        assert workflow.current_definition(DOC).id == own.id
        assert workflow.pending_default_change(DOC) == {
            "states_added": ["on_hold"],
            "states_removed": [],
            "states_changed": [],
            "transitions_added": ["hold", "resume"],
            "transitions_removed": [],
            "transitions_changed": ["approve"],
        }
        doc = create_request("Big", "5000")
        workflow.apply(doc, DOC, "submit", role="owner")
        assert "escalate" in transition_names(doc)

        # the firm merges what it wants and says it has seen the new default
        merged = approval_above("2000")
        merged["transitions"][1]["permission"] = "sample.edit"
        workflow.publish(DOC, merged, adopt_default=True)
        assert workflow.pending_default_change(DOC) is None


def test_reset_to_default_follows_the_module_again(make_tenant, monkeypatch):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        workflow.publish(DOC, approval_above())
        reset = workflow.reset_to_default(DOC)
        assert (reset.version, reset.source, reset.definition) == (3, "default", DEFAULT_WORKFLOW)
        monkeypatch.setattr(registry.document_types[DOC], "default_workflow", changed_default())
        assert workflow.current_definition(DOC).version == 4
        assert workflow.pending_default_change(DOC) is None


def test_a_published_definition_is_a_copy_the_caller_cannot_change(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        data = approval_above()
        row = workflow.publish(DOC, data)
        data["states"][0]["label"] = "changed afterwards"
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(workflow.WorkflowDefinition, row.id).definition == approval_above()


# --- helpers pages use --------------------------------------------------------------------


def test_state_labels_and_locked_fields_follow_the_documents_version(make_tenant):
    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        doc = create_request("Bolts", "5000")
        assert workflow.state_label(doc, "it") == "Bozza"
        assert workflow.locked_fields(doc) == frozenset()
        workflow.apply(doc, DOC, "submit", role="owner")
        assert workflow.state_label(doc, "en") == "Submitted"
        assert workflow.is_locked(doc, "title")
        assert not workflow.is_locked(doc, "amount")
