"""ComfyUI's 2025-26 utility classes import fully mapped (widget order from the class map, dynamic
combos' widgets included) and run: switches with lazy branches, maths, text, sizes."""

from __future__ import annotations

from nodeflow.core import default_registry
from nodeflow.engine import Executor
from nodeflow.engine.plan import make_plan
from nodeflow.interop.comfyui import import_data


def _node(node_id, kind, widgets, inputs=(), outputs=()):
    return {"id": node_id, "type": kind, "mode": 0, "widgets_values": widgets,
            "inputs": [{"name": n, "type": t, "link": link, **({"widget": {"name": n}} if w else {})}
                       for n, t, link, w in inputs],
            "outputs": [{"name": n, "type": t, "links": links} for n, t, links in outputs]}


def ui_file(switch: bool) -> dict:
    """Resolution Selector -> Math Expression (width / 2) -> a switch between that and a Regex
    Extract's number (as text, through Convert Number) -> Preview Any; a Resize Image/Mask saved
    with its 'scale longer dimension' widgets beside it."""
    nodes = [
        _node(1, "ResolutionSelector", ["16:9 (Widescreen)", 1, 8],
              outputs=[("width", "INT", [1]), ("height", "INT", [])]),
        _node(2, "ComfyMathExpression", ["a/2"], inputs=[("values.a", "FLOAT,INT,BOOLEAN", 1, False),
                                                      ("values.b", "FLOAT,INT,BOOLEAN", None, False)],
              outputs=[("FLOAT", "FLOAT", []), ("INT", "INT", [2]), ("BOOL", "BOOLEAN", [])]),
        _node(3, "RegexExtract", ["steps: 42", r"steps:\s*(\d+)", "First Group", True, False, False, 1],
              outputs=[("STRING", "STRING", [3])]),
        _node(4, "ComfyNumberConvert", None, inputs=[("value", "INT,FLOAT,STRING,BOOLEAN", 3, False)],
              outputs=[("FLOAT", "FLOAT", []), ("INT", "INT", [4])]),
        _node(5, "PrimitiveBoolean", [switch], outputs=[("BOOLEAN", "BOOLEAN", [5])]),
        _node(6, "ComfySwitchNode", [False], inputs=[("on_false", "INT", 2, False), ("on_true", "INT", 4, False),
                                                     ("switch", "BOOLEAN", 5, True)],
              outputs=[("output", "INT", [6])]),
        _node(7, "PreviewAny", [None, None, None], inputs=[("source", "*", 6, False)],
              outputs=[("STRING", "STRING", [])]),
        _node(8, "ResizeImageMaskNode", ["scale longer dimension", 1024, "lanczos"],
              inputs=[("input", "IMAGE,MASK", None, False)], outputs=[("resized", "IMAGE", [])]),
    ]
    links = [[1, 1, 0, 2, 0, "INT"], [2, 2, 1, 6, 0, "INT"], [3, 3, 0, 4, 0, "STRING"], [4, 4, 1, 6, 1, "INT"],
             [5, 5, 0, 6, 2, "BOOLEAN"], [6, 6, 0, 7, 0, "INT"]]
    return {"version": 0.4, "last_node_id": 8, "last_link_id": 6, "nodes": nodes, "links": links}


def test_the_vocabulary_imports_fully_mapped_with_dynamic_widgets():
    graph, report = import_data(ui_file(False), default_registry())
    assert report.fully_mapped, report.lines()
    assert graph.nodes["8"].params == {"resize_type": "scale longer dimension", "longer_size": 1024,
                                       "scale_method": "lanczos"}
    assert graph.nodes["3"].params["mode"] == "First Group"
    assert graph.nodes["2"].params == {"expression": "a/2"}


def test_an_imported_switch_runs_only_its_branch_and_the_plan_knows_which():
    for switch, shown, unused in ((False, 684, "3"), (True, 42, "2")):
        graph, _ = import_data(ui_file(switch), default_registry())
        graph.remove_node("8")  # nothing feeds the resize; it is only here for its widgets
        plan = make_plan(graph)
        assert plan.chosen == {"6": ("on_true",) if switch else ("on_false",)} and unused not in plan.order
        result = Executor(device="cpu").run(graph)
        assert result.ok, result.errors
        assert result.values["7"]["text"] == str(shown) and unused not in result.executed


def test_res_multistep_and_er_sde_run_on_the_tiny_model_and_differ_from_their_old_nearest(tmp_path):
    import numpy as np
    from PIL import Image

    from nodeflow.interop.comfyui import import_data as load

    from .comfy_graphs import txt2img_api

    executor = Executor(device="cpu")
    pictures = {}
    for sampler in ("res_multistep", "er_sde", "dpmpp_2m"):
        prompt = txt2img_api(steps=4)
        prompt["3"]["inputs"]["sampler_name"] = sampler
        graph, report = load(prompt, default_registry())
        assert report.fully_mapped and not any("nearest" in line for line in report.notes), report.lines()
        result = executor.run(graph, output_dir=tmp_path / sampler)
        assert result.ok, result.errors
        pictures[sampler] = np.asarray(Image.open(next((tmp_path / sampler).glob("*.png"))))
    assert not np.array_equal(pictures["res_multistep"], pictures["dpmpp_2m"])
    assert not np.array_equal(pictures["er_sde"], pictures["dpmpp_2m"])


def test_convert_names_missing_models_with_their_url_and_folder_from_a_subgraphs_hints(corpus, tmp_path, capsys):
    """The Z-Image template keeps its loaders inside a subgraph, each with `properties.models` hints."""
    from nodeflow.cli import main

    main(["convert", str(corpus / "ui" / "templates_01_get_started_text_to_image.json"), str(tmp_path / "out.json")])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("missing model:")]
    vae = next(line for line in lines if "'ae.safetensors'" in line)
    assert "https://huggingface.co/Comfy-Org/z_image_turbo/resolve/main/split_files/vae/ae.safetensors" in vae
    assert "put it in" in vae and vae.split("put it in ")[1].split(";")[0].endswith("vae")
    assert len(lines) == 3  # the diffusion model, the text encoder and the VAE
