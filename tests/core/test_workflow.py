"""Workflow files: canonical round trip, placeholders, extra fields, migrations, drift, atomic save."""

import json

import pytest
from spine_nodes import chain, make_registry

from nodeflow.core import Graph, Input, Migration, Node, Output, WorkflowFormatError, default_registry, files, workflow
from nodeflow.core.paths import PROJECT_ROOT

WORKFLOWS = sorted((PROJECT_ROOT / "workflows").glob("*.json"))


@pytest.fixture
def registry():
    return make_registry()


def sample(registry) -> Graph:
    graph = Graph(registry)
    ids = chain(graph, ("test.source", {"value": 3}), ("test.add", {"b": 4}), ("test.sink", {"label": "é ✓"}))
    graph.set_ui(ids[0], pos=[10.5, -20.0], title="Start")
    graph.set_mode(ids[1], "bypass")
    graph.add_group("Inputs", [0, 0, 300, 200], color="#335")
    graph.metadata["author"] = "test"
    return graph


def test_save_load_save_is_byte_identical(registry):
    text = workflow.dumps(sample(registry))
    again, report = workflow.loads(text, registry)
    assert workflow.dumps(again) == text and report.messages == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_shipped_workflows_round_trip_byte_identically(path):
    text = path.read_text(encoding="utf-8")
    graph, _ = workflow.loads(text, default_registry())
    assert workflow.dumps(graph) == text


def test_unknown_types_and_extra_fields_are_kept(registry):
    data = json.loads(workflow.dumps(sample(registry)))
    data["nodes"].append({"id": "9", "type": "acme.fancy", "version": 3, "params": {"k": [1, 2]},
                          "acme_private": {"x": 1}})
    data["links"].append({"from": ["1", "value"], "to": ["9", "in"], "note": "kept"})
    data["nodes"][0]["future_field"] = True
    data["future_section"] = {"a": 1}
    text = workflow.dumps(workflow.from_data(data, registry)[0])
    graph, report = workflow.loads(text, registry)
    assert "acme.fancy" in report.unknown_types[0]
    assert graph.nodes["9"].params == {"k": [1, 2]} and graph.nodes["9"].extra == {"acme_private": {"x": 1}}
    assert graph.link_into("9", "in").extra == (("note", "kept"),)
    assert json.loads(workflow.dumps(graph))["future_section"] == {"a": 1}
    assert workflow.dumps(graph) == text


def test_old_node_versions_are_migrated_by_name(registry):
    class Offset(Node):
        type_id = "test.offset"
        title = "Offset"
        version = 3
        inputs = (Input("x", "INT"), Input("offset", "INT", default=0))
        outputs = (Output("result", "INT"),)
        migrations = {
            1: Migration(rename_inputs={"amount": "delta"}),
            2: Migration(rename_inputs={"delta": "offset"}, rename_outputs={"out": "result"},
                         params=lambda p: {**p, "offset": p.get("offset", 0) * 10}),
        }

        def run(self, ctx, x, offset):
            return (x + offset,)

    registry.register(Offset)
    text = json.dumps({"format": "nodeflow-workflow", "version": 1, "nodes": [
        {"id": "1", "type": "test.source"},
        {"id": "2", "type": "test.offset", "version": 1, "params": {"amount": 2}},
        {"id": "3", "type": "test.sink"}],
        "links": [{"from": ["1", "value"], "to": ["2", "x"]}, {"from": ["2", "out"], "to": ["3", "value"]}]})
    graph, report = workflow.loads(text, registry)
    assert graph.nodes["2"].version == 3 and graph.nodes["2"].params == {"offset": 20}
    assert graph.link_into("3", "value").src_output == "result"
    assert "migrated from version 1 to 3" in report.migrated[0]


def test_manifest_drift_is_reported(registry):
    data = json.loads(workflow.dumps(sample(registry)))
    data["manifest"] = {"app": "0.0.1", "runtime": {"diffusers": "0.1.0", "python": "2.7.18"}, "models": {}}
    _, report = workflow.from_data(data, registry)
    assert any("diffusers 0.1.0" in m for m in report.drift) and any("python 2.7.18" in m for m in report.drift)


@pytest.mark.parametrize("text, needle", [
    ("{not json", "not valid JSON"),
    ("[]", "must be object"),
    ('{"format": "nodeflow-workflow", "version": 1, "nodes": [], "links": [], "x": NaN}', "NaN"),
    ('{"format": "nodeflow-workflow", "version": 9, "nodes": [], "links": []}', "newer"),
    ('{"format": "nodeflow-workflow", "version": 1, "nodes": [{"id": "1", "type": "t", "mode": "odd"}],'
     ' "links": []}', "mode"),
    ('{"format": "nodeflow-workflow", "version": 1, "nodes": [], "links": [{"from": ["1", "a"], '
     '"to": ["2", "b"]}]}', "not in the file"),
])
def test_broken_files_give_clear_errors(registry, text, needle):
    with pytest.raises(WorkflowFormatError, match=needle):
        workflow.loads(text, registry)


def test_atomic_save_and_png_round_trip(registry, tmp_path):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    graph = sample(registry)
    path = tmp_path / "wf.json"
    files.save(graph, path)
    assert [p.name for p in tmp_path.iterdir()] == ["wf.json"]  # no temp file left behind
    info = PngInfo()
    info.add_text(files.PNG_WORKFLOW_KEY, path.read_text())
    Image.new("RGB", (4, 4)).save(tmp_path / "img.png", pnginfo=info)
    again, _ = files.load(tmp_path / "img.png", registry)
    assert workflow.dumps(again) == path.read_text()
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    with pytest.raises(WorkflowFormatError, match="carries no NodeFlow workflow"):
        files.load(tmp_path / "plain.png", registry)


def test_schema_file_is_valid_draft7_and_matches_the_loader(registry):
    """The published schema is a correct JSON Schema, and an independent validator agrees with ours."""
    from jsonschema import Draft7Validator

    from nodeflow.core.schema import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text())
    Draft7Validator.check_schema(schema)
    good = json.loads(workflow.dumps(sample(registry)))
    assert Draft7Validator(schema).is_valid(good)
    bad = json.loads(workflow.dumps(sample(registry)))
    bad["nodes"][0]["pos"] = [1]
    assert not Draft7Validator(schema).is_valid(bad)
    with pytest.raises(WorkflowFormatError, match="nodes/0/pos") as info:
        workflow.from_data(bad, registry)
    assert info.value.problem.node_id == "1" and info.value.problem.field == "pos"
