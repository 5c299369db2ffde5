"""The workflow diagram: a standalone, accessible, deterministic SVG with escaped labels."""

import copy
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parsing our own output

import pytest

from distretto.platform.workflow.definitions import parse
from distretto.platform.workflow.diagram import depths, render_svg
from tests.support.sample import DEFAULT_WORKFLOW

SVG = "{http://www.w3.org/2000/svg}"


def sample_definition(**changes):
    data = copy.deepcopy(DEFAULT_WORKFLOW)
    data.update(changes)
    return parse(data)


def tree(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output; proves it is well-formed XML


def groups(root: ET.Element, css_class: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if css_class in (g.get("class") or "").split()]


def test_every_state_and_transition_appears_with_its_label():
    root = tree(render_svg(sample_definition(), locale="en"))
    states = groups(root, "wf-state")
    assert [g.get("data-state") for g in states] == [
        "draft",
        "submitted",
        "approved",
        "rejected",
        "done",
    ]
    assert [g.find(f"{SVG}text").text for g in states] == [
        "Draft",
        "Submitted",
        "Approved",
        "Rejected",
        "Done",
    ]
    edges = groups(root, "wf-transition")
    assert [(g.get("data-transition"), g.get("data-from"), g.get("data-to")) for g in edges] == [
        ("submit", "draft", "submitted"),
        ("approve", "submitted", "approved"),
        ("reject", "submitted", "rejected"),
        ("close", "approved", "done"),
    ]
    for edge in edges:
        assert edge.find(f"{SVG}path").get("marker-end") == "url(#wf-arrow)"
        assert edge.find(f"{SVG}text").text
    assert [e.find(f"{SVG}text").text for e in edges] == ["Submit", "Approve", "Reject", "Close"]


def test_labels_follow_the_locale():
    root = tree(render_svg(sample_definition(), locale="it"))
    assert [g.find(f"{SVG}text").text for g in groups(root, "wf-state")][:2] == ["Bozza", "Inviata"]


def test_it_is_accessible_by_itself():
    svg = render_svg(sample_definition(), locale="en", title="Sample requests")
    root = tree(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "wf-title wf-desc"
    assert root.find(f"{SVG}title").text == "Sample requests"
    description = root.find(f"{SVG}desc").text
    assert "Draft (start)" in description
    assert "Done (end)" in description
    assert "Submit: Draft \u2192 Submitted; needs sample.edit; when amount > 0" in description
    assert (
        "Reject: Submitted \u2192 Rejected; needs sample.approve; comment required" in description
    )


def test_final_states_are_drawn_differently():
    root = tree(render_svg(sample_definition(), locale="en"))
    by_state = {g.get("data-state"): g for g in groups(root, "wf-state")}
    final, normal = by_state["done"], by_state["approved"]
    assert "wf-state--final" in final.get("class")
    assert len(final.findall(f"{SVG}rect")) == 2  # a double border
    assert len(normal.findall(f"{SVG}rect")) == 1
    assert final.find(f"{SVG}rect").get("fill") != normal.find(f"{SVG}rect").get("fill")


def test_the_current_state_is_highlighted():
    root = tree(render_svg(sample_definition(), locale="en", current_state="submitted"))
    by_state = {g.get("data-state"): g for g in groups(root, "wf-state")}
    current = by_state["submitted"]
    assert current.get("aria-current") == "step"
    assert "wf-state--current" in current.get("class")
    others = [g for name, g in by_state.items() if name != "submitted"]
    assert all(g.get("aria-current") is None for g in others)
    fill = current.find(f"{SVG}rect").get("fill")
    assert fill not in {g.find(f"{SVG}rect").get("fill") for g in others}
    assert "Submitted (current)" in root.find(f"{SVG}desc").text
    plain = tree(render_svg(sample_definition(), locale="en"))
    assert not any(g.get("aria-current") for g in plain.iter(f"{SVG}g"))


def test_states_are_laid_out_left_to_right_by_distance_from_the_initial_state():
    definition = sample_definition()
    assert depths(definition) == {
        "draft": 0,
        "submitted": 1,
        "approved": 2,
        "rejected": 2,
        "done": 3,
    }
    root = tree(render_svg(definition, locale="en"))
    x = {
        g.get("data-state"): float(g.find(f"{SVG}rect").get("x")) for g in groups(root, "wf-state")
    }
    assert x["draft"] < x["submitted"] < x["approved"] == x["rejected"] < x["done"]
    y = {
        g.get("data-state"): float(g.find(f"{SVG}rect").get("y")) for g in groups(root, "wf-state")
    }
    assert y["approved"] != y["rejected"]
    width = float(root.get("width"))
    assert all(value < width for value in x.values())


def test_labels_are_escaped_never_markup():
    data = copy.deepcopy(DEFAULT_WORKFLOW)
    data["states"][0]["label"] = {"en": '<script>alert("x")</script>', "it": "x"}
    data["transitions"][0]["label"] = "</text><script>alert(1)</script>"
    data["transitions"][1]["label"] = 'Tom & Jerry\'s "approval"\x00'
    svg = render_svg(parse(data), locale="en", title="<img src=x onerror=alert(1)>")
    assert "<script" not in svg
    assert "<img" not in svg
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in svg
    root = tree(svg)  # still well-formed, so nothing broke out of its element
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert '<script>alert("x")</script>' in texts
    assert "</text><script>alert(1)</script>" in texts
    assert 'Tom & Jerry\'s "approval"' in texts
    assert not list(root.iter(f"{SVG}script"))


def test_no_script_no_style_and_no_event_handlers():
    svg = render_svg(sample_definition(), locale="en", current_state="approved")
    root = tree(svg)
    assert not list(root.iter(f"{SVG}script"))
    assert not list(root.iter(f"{SVG}style"))
    assert not list(root.iter(f"{SVG}foreignObject"))
    for element in root.iter():
        assert not any(name.lower().startswith("on") for name in element.attrib)
        assert not any("javascript:" in value for value in element.attrib.values())


def test_the_output_is_deterministic():
    first = render_svg(sample_definition(), locale="en", current_state="approved")
    second = render_svg(sample_definition(), locale="en", current_state="approved")
    assert first == second


def test_loops_back_edges_and_parallel_edges_are_all_drawn():
    data = copy.deepcopy(DEFAULT_WORKFLOW)
    data["transitions"] += [
        {"name": "reopen", "label": "Reopen", "from": ["approved", "submitted"], "to": "draft"},
        {"name": "touch", "label": "Touch", "from": ["submitted"], "to": "submitted"},
        {"name": "fast_track", "label": "Fast track", "from": ["submitted"], "to": "approved"},
    ]
    root = tree(render_svg(parse(data), locale="en"))
    edges = [(g.get("data-transition"), g.get("data-from")) for g in groups(root, "wf-transition")]
    assert ("reopen", "approved") in edges
    assert ("reopen", "submitted") in edges
    assert ("touch", "submitted") in edges
    paths = {
        (g.get("data-transition"), g.get("data-from")): g.find(f"{SVG}path").get("d")
        for g in groups(root, "wf-transition")
    }
    assert paths[("approve", "submitted")] != paths[("fast_track", "submitted")]
    assert len(set(paths.values())) == len(paths)


def test_element_ids_can_be_prefixed_for_several_diagrams_on_a_page():
    svg = render_svg(sample_definition(), locale="en", id_prefix="v2 diagram")
    root = tree(svg)
    assert root.get("aria-labelledby") == "v2-diagram-title v2-diagram-desc"
    assert 'marker-end="url(#v2-diagram-arrow)"' in svg
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"v2-diagram-[a-z0-9_-]+", i) for i in ids)


@pytest.mark.parametrize("current", [None, "ghost"])
def test_an_unknown_current_state_highlights_nothing(current):
    root = tree(render_svg(sample_definition(), locale="en", current_state=current))
    assert not any(g.get("aria-current") for g in root.iter(f"{SVG}g"))


def test_unreachable_states_of_a_draft_definition_still_show():
    data = copy.deepcopy(DEFAULT_WORKFLOW)
    data["states"].append({"name": "limbo", "label": "Limbo"})
    definition = parse(data)
    assert depths(definition)["limbo"] == 4
    root = tree(render_svg(definition, locale="en"))
    assert "limbo" in [g.get("data-state") for g in groups(root, "wf-state")]


def test_a_json_definition_renders_the_same_as_a_parsed_one():
    assert render_svg(copy.deepcopy(DEFAULT_WORKFLOW), locale="en") == render_svg(
        sample_definition(), locale="en"
    )


def test_a_document_is_drawn_on_its_own_version_at_its_state(make_tenant):
    from distretto.platform import workflow
    from distretto.platform.context import tenant_context
    from distretto.platform.workflow.diagram import render_document
    from tests.support.sample.services import create_request

    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        doc = create_request("Bolts", "10")
        workflow.apply(doc, "sample_request", "submit", role="owner")
        extra = copy.deepcopy(DEFAULT_WORKFLOW)
        extra["states"].append({"name": "archived", "label": "Archived", "kind": "final"})
        extra["transitions"].append(
            {"name": "archive", "label": "Archive", "from": ["approved"], "to": "archived"}
        )
        workflow.publish("sample_request", extra)
        root = tree(render_document(doc, locale="en"))
    states = {g.get("data-state"): g for g in groups(root, "wf-state")}
    assert "archived" not in states  # the document runs on version 1
    assert states["submitted"].get("aria-current") == "step"


def test_automatic_and_guarded_steps_are_marked():
    data = copy.deepcopy(DEFAULT_WORKFLOW)
    data["transitions"].append(
        {
            "name": "auto_close",
            "label": "Closes itself",
            "from": ["approved"],
            "to": "done",
            "automatic": True,
        }
    )
    root = tree(render_svg(parse(data), locale="en"))
    edges = {g.get("data-transition"): g for g in groups(root, "wf-transition")}
    assert "wf-transition--automatic" in edges["auto_close"].get("class")
    assert "wf-transition--guarded" in edges["submit"].get("class")
    dashes = {name: g.find(f"{SVG}path").get("stroke-dasharray") for name, g in edges.items()}
    assert dashes["close"] is None
    assert len({dashes["auto_close"], dashes["submit"], dashes["close"]}) == 3
    assert "automatic" in edges["auto_close"].find(f"{SVG}title").text


def test_a_stored_version_row_can_be_drawn_directly(make_tenant):
    from distretto.platform import workflow
    from distretto.platform.context import tenant_context

    firm = make_tenant(modules=["sample"])
    with tenant_context(firm):
        row = workflow.current_definition("sample_request")
        assert render_svg(row, locale="en") == render_svg(sample_definition(), locale="en")
