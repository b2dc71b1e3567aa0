"""`nodeflow plan`: order, cache, per-node memory against a budget; no torch; exit 2 when it can't fit."""

import subprocess
import sys
from pathlib import Path

from nodeflow.cli import main

ROOT = Path(__file__).resolve().parents[1]
TXT2IMG = ROOT / "workflows" / "txt2img.json"


def test_plan_lists_every_node_with_its_models_and_fits(capsys):
    assert main(["plan", str(TXT2IMG), "--device", "cpu", "--memory-budget", "8GB"]) == 0
    out = capsys.readouterr().out
    assert "budget 8.0 GB" in out and "fits" in out
    sampler = next(line for line in out.splitlines() if "Sampler" in line)
    assert "unet (node 1)" in sampler and "text_encoder" not in sampler  # the sampler needs the UNet only
    encode = next(line for line in out.splitlines() if "Text Encode" in line)
    assert "text_encoder (node 1)" in encode and "unet" not in encode


def test_plan_refuses_a_budget_below_the_model_naming_node_estimate_and_budget(capsys):
    assert main(["plan", str(TXT2IMG), "--device", "cpu", "--memory-budget", "5MB"]) == 2
    err = capsys.readouterr().err
    assert "node 1: needs about 12.2 MB" in err and "memory budget of 5.0 MB on cpu" in err


def test_on_cuda_offload_makes_a_budget_below_the_weights_possible(tmp_path, capsys):
    """Weights can stream layer by layer on CUDA: only a node's own work must fit."""
    import json

    data = json.loads(TXT2IMG.read_text())
    for node in data["nodes"]:
        if node["type"] == "latent.empty":
            node["params"] |= {"width": 64, "height": 64, "batch_size": 1}
    path = tmp_path / "small.json"
    path.write_text(json.dumps(data))
    assert main(["plan", str(path), "--device", "cpu", "--memory-budget", "3MB"]) == 2  # 12 MB of weights
    assert main(["plan", str(path), "--device", "cuda", "--memory-budget", "3MB"]) == 0


def test_a_bad_budget_is_one_line(capsys):
    try:
        main(["plan", str(TXT2IMG), "--memory-budget", "lots"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "'lots' is not a size" in capsys.readouterr().err


def test_run_refuses_at_validation_what_cannot_fit(tmp_path, capsys):
    assert main(["run", str(TXT2IMG), "--device", "cpu", "--memory-budget", "5MB", "--out", str(tmp_path)]) == 2
    assert "memory budget of 5.0 MB" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_plan_does_not_import_torch():
    code = ("import sys; from nodeflow.cli import main; "
            f"assert main(['plan', {str(TXT2IMG)!r}, '--device', 'cpu']) == 0; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)


def test_a_budget_under_what_the_workflow_asks_for_but_over_each_node_runs_with_evictions(capsys):
    """The plan's own peak stays under any budget it can run in (it evicts); the verdict compares
    what the workflow asks for, so the user learns that components will be evicted and re-read."""
    from nodeflow.cli.common import load_workflow
    from nodeflow.core.paths import default_search_dirs
    from nodeflow.engine.memory_plan import make_memory_plan
    from nodeflow.engine.plan import make_plan
    from nodeflow.engine.plan_verdict import OVER, peak_keeping_all, verdict

    graph = load_workflow(TXT2IMG)
    roomy = make_memory_plan(graph, make_plan(graph).order, default_search_dirs(TXT2IMG.parent), "cpu", 8 * 10**9)
    asks, most = peak_keeping_all(roomy), max(n.needs for n in roomy.nodes)
    assert roomy.peak == asks and most < asks
    budget = (most + asks) // 2
    tight = make_memory_plan(graph, make_plan(graph).order, default_search_dirs(TXT2IMG.parent), "cpu", budget)
    assert tight.peak <= budget and tight.problems() == [] and verdict(tight, []) == OVER
    assert main(["plan", str(TXT2IMG), "--device", "cpu", "--memory-budget", str(budget)]) == 0
    assert "over budget: components are evicted" in capsys.readouterr().out


def test_plan_says_which_branch_a_switch_takes(tmp_path, capsys):
    import json

    data = {"format": "nodeflow-workflow", "version": 1,
            "nodes": [{"id": "1", "type": "basic.int", "params": {"value": 1}},
                      {"id": "2", "type": "basic.int", "params": {"value": 2}},
                      {"id": "3", "type": "basic.switch", "params": {"switch": True}},
                      {"id": "4", "type": "basic.show"}],
            "links": [{"from": ["1", "value"], "to": ["3", "on_false"]},
                      {"from": ["2", "value"], "to": ["3", "on_true"]},
                      {"from": ["3", "output"], "to": ["4", "value"]}]}
    path = tmp_path / "switch.json"
    path.write_text(json.dumps(data))
    assert main(["plan", str(path), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "node 3 (Switch) takes on_true; the other branch is not planned" in out
    rows = [line.split()[0] for line in out.splitlines() if line.startswith("      ")]
    assert "1" not in rows and "2" in rows
