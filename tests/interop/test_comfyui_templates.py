"""ComfyUI's official templates (PyPI `comfyui-workflow-templates-json`, a pinned test dependency).

None may raise; the index files beside them are not workflows and must be refused in one line.
The test prints how many templates map fully (every node a NodeFlow node, no value lost).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from nodeflow.core.errors import WorkflowFormatError
from nodeflow.interop.comfyui import import_source
from nodeflow.interop.comfyui.source import read_source

templates = pytest.importorskip("comfyui_workflow_templates_json")
FOLDER = Path(templates.__file__).parent / "templates"


def test_every_template_imports_and_the_fully_mapped_ones_are_counted(registry, record_property):
    imported, fully, refused = 0, [], []
    missing: Counter[str] = Counter()
    for path in sorted(FOLDER.glob("*.json")):
        try:
            source = read_source(path)
        except WorkflowFormatError as exc:
            assert "\n" not in str(exc)
            refused.append(path.name)
            continue
        graph, report = import_source(source, registry)
        imported += 1
        assert graph.nodes, path.name
        if report.fully_mapped:
            fully.append(path.name)
        missing.update(c for _, c, _ in report.placeholders)
    assert imported >= 640
    assert all(name.startswith("index") or name == "fuse_options.json" for name in refused)
    # raise as more classes map (1 of 644 when first counted, 4 with the loaders, 6 with issue 24's utilities,
    # 16 with issue 22's Flux / SD3.5 classes, 21 with issue 23's Z-Image, 26 with its Qwen-Image,
    # 30 with Flux Fill's InpaintModelConditioning + DifferentialDiffusion and Chroma's T5TokenizerOptions,
    # 39 with Flux.2's CLIPLoader type, EmptyFlux2LatentImage and Flux2Scheduler, 47 with CFGNorm,
    # 52 with FluxKontextMultiReferenceLatentMethod, 58 with Krea 2's CLIPLoader type, 65 with links resolved
    # as ComfyUI resolves them (stale rows, doubly fed subgraph outputs), Reroute sockets saved with a widget
    # name and ControlNetApplyAdvanced's vae, 70 with Qwen Image 2.1's TextEncodeQwenImage21 and
    # QwenImage21Cache, TextGenerate's mtp and a 16-picture BatchImagesNode, 71 with CameraAngle and
    # ModelSamplingAuraFlow's sampling widget, 72 with SDTurboScheduler, 73 with
    # ModelAttentionBackend, 74 with the video core: CreateVideo, SaveVideo, LoadVideo, GetVideoComponents,
    # 79 with FLUX.3's Flux3LayoutPrompt and ReferenceMultiLatent and Save Image's pass-through output,
    # 81 with ThresholdMask (basic_mask_operations_and_compositing), 87 with Wan's WanImageToVideo,
    # WanFirstLastFrameToVideo and EmptyHunyuanLatentVideo (five Wan templates), 90 with LTX-2's loaders,
    # picture conditioning, latent upscaler, LTXVScheduler and SamplerCustomAdvanced's denoised_output,
    # 93 with MiniMax H3's Image to Video, Add Guide and VAEDecodeAudio (video_minimax_h3_t2v, _i2v,
    # _i2v_continuation),
    # 95 with TextGenerateLTX2Prompt: video_ltx2_3_i2v and video_ltx2_3_t2v, 97 with
    # MiniMaxH3ReferenceToVideo: video_minimax_h3_r2v and _multiframe_reference, 98 with
    # Wan22ImageToVideoLatent: video_wan2_2_5B_ti2v, 100 with EmptyQwenImageLayeredLatentImage:
    # image_qwen_image_layered and _control, 102 with CLIPLoader's type longcat_image:
    # image_longcat_text_to_image and image_longcat_image_edit, 105 with Stable Audio's CLIPLoader type and
    # EmptyLatentAudio: audio_stable_audio_3_medium, _medium_base and audio_stable_audio_example, 107 with
    # CLIPLoader types ideogram4 and ltxv for the text generation templates llm_qwen3vl_text_gen and
    # llm_qwen3_text_gen, 110 with CLIPVisionLoader, CLIPVisionEncode and ScaleROPE: image_chrono_edit_14B
    # and image_to_video_wan among them, 111 with Kandinsky 5's DualCLIPLoader type kandinsky5_image:
    # image_kandinsky5_t2i, 114 with BlockSparseAttention, run dense: FastVideo's video_fastvideo_fasth3_t2v,
    # _i2v and video_fasth3_ominiref_r2v, 115 with WanFirstLastFrameToVideo's CLIP vision inputs:
    # wan2.1_flf2v_720_f16, 118 with HiDream-I1's QuadrupleCLIPLoader: hidream_i1_dev, _fast, _full, 119 with
    # StyleModelLoader and StyleModelApply (Flux Redux): flux_redux_model_example; 118 when CLIPLoader's stand-in
    # types ideogram4 and ltxv were narrowed to the files the text generation templates name: ltxv_text_to_video's
    # T5 had counted as mapped to Z-Image's encoder, which cannot load it), 121 with LTXVAddGuide and
    # SamplerEulerAncestral: video_ltx2_3_flf2v, template_ltx2_3_style_transition and video_ltx2_canny_to_video,
    # 122 with FluxKVCache: image_flux2_klein_9b_kv_image_edit, 123 with ModelPatchLoader and
    # QwenImageDiffsynthControlnet (Z-Image's Fun union ControlNet): image_z_image_turbo_fun_union_controlnet,
    # 125 with DualCFGGuider: HiDream-E1's hidream_e1_1 and hidream_e1_full,
    # 128 with CLIPLoader type ltxv for LTX-2.5's Gemma 4 and LTXVDualCFGGuider: video_ltx2_5_t2v, _i2v, _flf2v,
    # 129 with Qwen-Image's DiffSynth ControlNets from model_patches: image_qwen_image_controlnet_patch, 130 with
    # ControlNetInpaintingAliMamaApply (Qwen-Image's InstantX inpainting ControlNet) and ImageBlur:
    # image_qwen_image_instantx_inpainting_controlnet)
    assert len(fully) >= 130
    record_property("templates_fully_mapped", len(fully))
    print(f"\nComfyUI templates: {imported} imported, {len(fully)} map fully ({', '.join(fully)}); "
          f"{len(refused)} index files refused; most common unmapped classes: {missing.most_common(10)}")
