"""Stable Audio 3: Load Checkpoint (a StableAudio3Pipeline folder) -> Text Encode -> Empty Latent Audio ->
Sampler -> VAE Decode Audio gives StableAudio3Pipeline's waveform (tiny random weights, CPU, tolerance 0):
the distilled Medium's stochastic steps at cfg 1, the Base's Euler steps with CFG and a negative prompt."""

from __future__ import annotations

import pytest
import torch
from graphs import add, new_graph, run
from official_templates import import_template

from nodeflow.engine import Executor

#: Seconds that fill whole latent steps of the tiny VAE (64 samples a step at 16 kHz: 250 steps).
SECONDS = 1.0


@pytest.fixture(scope="module")
def executor():
    return Executor(device="cpu")


@pytest.fixture(scope="module")
def tiny_medium(tmp_path_factory, torch_threads):
    from tiny_stable_audio3 import build_stable_audio3

    return build_stable_audio3(tmp_path_factory.mktemp("tiny_sa3"))


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory, torch_threads):
    from tiny_stable_audio3 import build_stable_audio3

    return build_stable_audio3(tmp_path_factory.mktemp("tiny_sa3_base"), seed=1, stochastic=False)


def audio_graph(checkpoint, *, cfg: float, steps: int, seed: int, negative: str = ""):
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(checkpoint))
    pos = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
    neg = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text=negative)
    empty = add(g, "audio.empty_latent", seconds=SECONDS, batch_size=1)
    sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (pos, "conditioning"),
                                          "negative": (neg, "conditioning"), "latent_image": (empty, "latent")},
                  seed=seed, steps=steps, cfg=cfg, sampler_name="euler", scheduler="normal")
    decode = add(g, "audio.vae_decode", {"samples": (sampler, "latent"), "vae": (ckpt, "vae")})
    add(g, "audio.save", {"audio": (decode, "audio")}, filename_prefix="sa3")
    return g, decode


def reference(folder, **kwargs):
    from diffusers import StableAudio3Pipeline
    from pipelines import settled  # the weights laid out as NodeFlow's loaders lay them out

    pipe = settled(StableAudio3Pipeline.from_pretrained(folder, local_files_only=True))
    pipe.set_progress_bar_config(disable=True)
    return pipe("a red circle", duration=SECONDS, **kwargs).audios


@pytest.mark.parametrize(("fixture", "cfg", "steps"), [("tiny_medium", 1.0, 3), ("tiny_base", 3.0, 2)])
def test_sound_matches_stable_audio3_pipeline(request, executor, tmp_path, fixture, cfg, steps):
    folder = request.getfixturevalue(fixture)
    graph, decode = audio_graph(folder, cfg=cfg, steps=steps, seed=7, negative="a green square")
    ours = run(executor, graph, tmp_path).values[decode]["audio"]
    theirs = reference(folder, num_inference_steps=steps, guidance_scale=cfg, negative_prompt="a green square",
                       generator=torch.Generator("cpu").manual_seed(7))
    assert ours["sample_rate"] == 16000
    assert ours["waveform"].shape == theirs.shape == (1, 2, 16000)
    assert theirs.std() > 1e-3  # a waveform with something in it
    assert torch.equal(ours["waveform"], theirs.float())


def test_empty_latent_audio_is_comfyuis_blank_latent_until_sampled():
    from nodeflow.core import RunContext
    from nodes.audio.latent import EmptyLatentAudio

    (latent,) = EmptyLatentAudio().run(RunContext(), seconds=47.6, batch_size=2)
    assert latent["samples"].shape == (2, 64, 1024)  # ComfyUI's: round(47.6 * 44100 / 2048 / 2) * 2 steps
    assert latent["empty_seconds"] == 47.6


def test_a_picture_model_refuses_a_blank_sound_latent(tiny_flux, executor, tmp_path):
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(tiny_flux))
    pos = add(g, "conditioning.text_encode", {"clip": (ckpt, "clip")}, text="a red circle")
    empty = add(g, "audio.empty_latent", seconds=1.0, batch_size=1)
    sampler = add(g, "sampling.sampler", {"model": (ckpt, "model"), "positive": (pos, "conditioning"),
                                          "latent_image": (empty, "latent")},
                  seed=1, steps=1, cfg=1.0, sampler_name="euler", scheduler="normal")
    decode = add(g, "vae.decode", {"latent": (sampler, "latent"), "vae": (ckpt, "vae")})
    add(g, "image.preview", {"images": (decode, "image")})
    result = executor.run(g, output_dir=tmp_path)
    assert not result.ok
    assert "does not make sound" in str(result.errors)


@pytest.mark.parametrize(("name", "fixture"), [("audio_stable_audio_3_medium", "tiny_medium"),
                                               ("audio_stable_audio_3_medium_base", "tiny_base")])
def test_the_official_templates_run_on_tiny_folders(request, name, fixture, tmp_path):
    """ComfyUI's Stable Audio 3 templates import fully mapped and run (comfyui convention: lcm, simple, 2 steps,
    the reprompt switch off) to an mp3, the checkpoint and the text encoder given as the tiny pipeline folder."""

    folder = request.getfixturevalue(fixture)
    graph, comfy_class = import_template(name)
    for node_id, record in graph.nodes.items():
        kind = comfy_class.get(node_id)
        if kind == "CheckpointLoaderSimple":
            graph.set_param(node_id, "checkpoint", str(folder))
        elif kind == "CLIPLoader" and record.params.get("family") == "stable_audio":
            graph.set_param(node_id, "clip_name", str(folder / "text_encoder"))
        elif kind == "KSampler":
            assert record.params["convention"] == "comfyui"
            graph.set_param(node_id, "steps", 2)
        elif kind == "PrimitiveBoolean":
            graph.set_param(node_id, "value", False)  # no reprompting: the prompt as typed
        elif kind == "PrimitiveFloat":
            graph.set_param(node_id, "value", 1.0)  # seconds
    result = Executor(device="cpu").run(graph, output_dir=tmp_path / "out")
    assert result.ok, result.errors
    assert len(sorted((tmp_path / "out").rglob("*.mp3"))) == 1


def test_the_comfyui_convention_calls_each_model_at_its_own_timestep_scale():
    """ComfyUI calls Stable Audio 3's DiT at sigma itself (its scheduler's num_train_timesteps is 1), the other
    flow models at 1000 x sigma: the table follows the model's scheduler, as the diffusers convention does."""
    from types import SimpleNamespace

    from nodes.families import by_name
    from nodes.sampling._flow_table import FlowSigmaTable

    audio = SimpleNamespace(spec=by_name("stable-audio-3"), scheduler_config={"num_train_timesteps": 1})
    flux = SimpleNamespace(spec=by_name("flux"), scheduler_config={})
    assert float(FlowSigmaTable.for_model(audio).timestep(0.25)) == 0.25
    assert float(FlowSigmaTable.for_model(flux).timestep(0.25)) == 250.0
    assert float(FlowSigmaTable.for_model(audio).sigma(0.25)) == pytest.approx(0.4)  # shift 2: 2u / (1 + u)


def test_comfyuis_one_file_checkpoint_is_refused_in_one_line(executor, tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "stable_audio_3_medium.safetensors"
    save_file({"model.model.transformer.global_cond_embedder.0.weight": torch.zeros(4, 4),
               "pretransform.model.bottleneck.scaling_factor": torch.ones(1, 4, 1)}, str(path))
    g = new_graph()
    ckpt = add(g, "models.load_checkpoint", checkpoint=str(path))
    empty = add(g, "audio.empty_latent", seconds=1.0, batch_size=1)
    decode = add(g, "audio.vae_decode", {"samples": (empty, "latent"), "vae": (ckpt, "vae")})
    add(g, "audio.save", {"audio": (decode, "audio")}, filename_prefix="sa3")
    result = executor.run(g, output_dir=tmp_path / "out")
    assert not result.ok
    assert "stable-audio-tools' one-file layout" in str(result.errors)


def test_comfyuis_t5gemma_file_encodes_as_the_pipeline_folder(tiny_medium, tmp_path):
    """CLIPLoader type stable_audio on T5Gemma as ComfyUI keeps it (model.encoder...), its tokenizer beside it:
    the shipped T5Gemma-b config sized by the tensors gives the folder's states and mask."""
    import shutil

    from safetensors.torch import save_file
    from transformers import T5GemmaEncoderModel

    from nodeflow.core import RunContext
    from nodes.conditioning._text_encode import encode_text
    from nodes.models._checkpoint import load_checkpoint
    from nodes.models.loaders import LoadCLIP

    encoder = T5GemmaEncoderModel.from_pretrained(tiny_medium / "text_encoder")
    path = tmp_path / "t5gemma_b_b_ul2.safetensors"
    save_file({"model." + k: v.contiguous() for k, v in encoder.state_dict().items()}, str(path))
    shutil.copytree(tiny_medium / "tokenizer", tmp_path / "tokenizer")
    ctx = RunContext(device="cpu")
    (clip,) = LoadCLIP().run(ctx, clip_name=str(path), family="stable_audio")
    assert clip.family == "stable-audio-3"
    _, folder_clip, _ = load_checkpoint(tiny_medium, "cpu", torch.float32)
    ours, theirs = (encode_text(ctx, c, "a red circle on a blue background") for c in (clip, folder_clip))
    assert torch.equal(ours.embeds, theirs.embeds) and torch.equal(ours.attention_mask, theirs.attention_mask)


def test_the_t5gemma_file_reads_the_tokenizer_it_carries(tiny_medium, tmp_path):
    """No tokenizer beside the file: the SentencePiece model ComfyUI's file carries (`spiece_model`) tokenizes."""
    import sentencepiece
    from safetensors.torch import save_file
    from tiny_lumina2 import gemma_sentencepiece
    from transformers import T5GemmaEncoderModel

    from nodeflow.core import RunContext
    from nodes.conditioning._text_encode import encode_text
    from nodes.models.loaders import LoadCLIP

    model = gemma_sentencepiece()
    encoder = T5GemmaEncoderModel.from_pretrained(tiny_medium / "text_encoder").eval()
    torch.manual_seed(3)
    encoder.resize_token_embeddings(sentencepiece.SentencePieceProcessor(model_proto=model).get_piece_size())
    state = {"model." + k: v.contiguous() for k, v in encoder.state_dict().items()}
    state["spiece_model"] = torch.frombuffer(bytearray(model), dtype=torch.uint8).clone()
    path = tmp_path / "clip" / "t5gemma_b_b_ul2.safetensors"
    path.parent.mkdir()
    save_file(state, str(path))
    ctx = RunContext(device="cpu")
    (clip,) = LoadCLIP().run(ctx, clip_name=str(path), family="stable_audio")
    entry = encode_text(ctx, clip, "a red circle")
    tokenizer, _ = clip.part("text_encoder")
    ids = tokenizer(["a red circle"], padding="max_length", max_length=256, return_tensors="pt")
    assert int(ids.attention_mask.sum()) > 1  # the carried vocabulary, not an empty one
    with torch.no_grad():
        expected = encoder(ids.input_ids, attention_mask=ids.attention_mask)[0]
    assert torch.equal(entry.embeds, expected) and torch.equal(entry.attention_mask, ids.attention_mask)
