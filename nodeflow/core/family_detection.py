"""Which model family a file is, from its header: the one table the library and the loaders ask.

The model library lists and places files by family (`nodeflow.library.detect`); the loaders pick
the family's classes to run a denoiser (`nodes.families.detect`). Both read a file's header the
same way here, so a file the library files under "flux" is the file the loaders run as Flux.
Plain data and string matching: no torch, no node types. A family's everything-else (encoders,
latent format, pipeline) is declared under the same name in `nodes.families`.

Which Stable Diffusion a UNet is (SD 1.x, 2.x, XL, inpainting) is told here too
(`sd_architecture`), for the library's listing and the loaders' shipped configs alike.

Evidence for a declared family, in order: the denoiser's tensor names (in the original or
diffusers' naming, under any wrapper prefix) and, where names are shared, one tensor's size; else
the trainer's metadata (`modelspec.architecture`, GGUF's `general.architecture`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Detection:
    """How a denoiser's weights are recognised: every key in `keys` is present (as a suffix after
    any wrapper prefix), none in `without` is, and each (key, axis, size) in `shapes` holds."""

    keys: tuple[str, ...]
    without: tuple[str, ...] = ()
    shapes: tuple[tuple[str, int, int], ...] = ()


#: Flux's denoiser in the original (BFL / ComfyUI) key names and in diffusers' own.
_FLUX_ORIGINAL = ("double_blocks.0.img_attn.qkv.weight",)
_FLUX_DIFFUSERS = ("transformer_blocks.0.attn.to_q.weight", "single_transformer_blocks.0.attn.to_q.weight",
                   "x_embedder.weight")

#: (family name, its rules), a more specific family (Flux Fill, Chroma) before the one it extends.
DENOISERS: tuple[tuple[str, tuple[Detection, ...]], ...] = (
    # FLUX.3's per-mode modulations, in BFL's (ComfyUI's) key names and diffusers'
    ("flux3", (Detection(("early_stream_modulations.image.lin.weight",)),
               Detection(("early_stream_modulations.image.linear.weight",)))),
    # Flux.2's shared modulations, in BFL's (ComfyUI's) key names and diffusers': dev with a guidance
    # input, Klein without. Before Flux.1: its files keep Flux.1's block names.
    ("flux2", (Detection(("single_stream_modulation.lin.weight", "guidance_in.in_layer.weight")),
               Detection(("single_stream_modulation.linear.weight",
                          "time_guidance_embed.guidance_embedder.linear_1.weight")))),
    ("flux2-klein", (Detection(("single_stream_modulation.lin.weight",), without=("guidance_in.in_layer.weight",)),
                     Detection(("single_stream_modulation.linear.weight",),
                               without=("time_guidance_embed.guidance_embedder.linear_1.weight",)))),
    ("flux-fill", (Detection(_FLUX_ORIGINAL, shapes=(("img_in.weight", 1, 384),)),
                   Detection(_FLUX_DIFFUSERS, shapes=(("x_embedder.weight", 1, 384),)))),
    ("chroma", (Detection(("distilled_guidance_layer.in_proj.weight",)),)),
    # HiDream-I1's mixture-of-experts blocks (ComfyUI's files keep diffusers' names)
    ("hidream", (Detection(("double_stream_blocks.0.block.ff_i.gate.weight", "caption_projection.0.linear.weight")),)),
    # LongCat-Image: Flux's blocks without the pooled-text input (no vector_in; diffusers' time_embed in
    # place of time_text_embed). ComfyUI's file keeps BFL's names. Before Flux.1, whose names it shares.
    ("longcat-image", (Detection(_FLUX_ORIGINAL + ("time_in.in_layer.weight",), without=("vector_in.in_layer.weight",)),
                       Detection(("time_embed.timestep_embedder.linear_1.weight",
                                  "single_transformer_blocks.0.attn.to_q.weight", "x_embedder.weight")))),
    ("flux", (Detection(_FLUX_ORIGINAL), Detection(_FLUX_DIFFUSERS, without=("pos_embed.proj.weight",)))),
    ("sd3", (Detection(("joint_blocks.0.x_block.attn.qkv.weight",)),
             Detection(("joint_blocks.0.context_block.attn.qkv.weight",)),
             Detection(("pos_embed.proj.weight", "transformer_blocks.0.attn.to_q.weight", "context_embedder.weight")))),
    # Lumina 2's NextDiT, whose original names Z-Image's files share but for the SiLU before each block's
    # modulation (adaLN_modulation.1, Z-Image's .0), and diffusers' names
    ("lumina2", (Detection(("cap_embedder.1.weight", "layers.0.adaLN_modulation.1.weight")),
                 Detection(("time_caption_embed.caption_embedder.1.weight", "layers.0.norm1.linear.weight")))),
    ("z-image", (Detection(("cap_embedder.1.weight", "layers.0.attention.qkv.weight")),
                 Detection(("cap_embedder.1.weight", "all_x_embedder.2-1.weight")))),
    # Qwen Image 2.1's single stream: one shared modulation, a normed text projection (diffusers' names,
    # which ComfyUI's files keep but for the fused SwiGLU gate_up).
    ("qwen-image-2.1", (Detection(("txt_in.text_norm.weight", "modulation.1.weight", "img_in.weight")),)),
    # Qwen-Image Layered: Qwen-Image's blocks with a second timestep embedding (RGBA or RGB layer)
    ("qwen-image-layered", (Detection(("txt_norm.weight", "time_text_embed.addition_t_embedding.weight",
                                       "img_in.weight")),)),
    ("qwen-image", (Detection(("txt_norm.weight", "transformer_blocks.0.img_mod.1.weight", "img_in.weight")),)),
    # Kandinsky 5 Image: its pooled-text embedding and visual blocks (the original names, which ComfyUI's files
    # and diffusers share) on the picture's 16 channels in 2x2 cells; the video models' visual_cond input
    # (2 x 16 + 1 channels a cell) is not it
    ("kandinsky5", (Detection(("pooled_text_embeddings.in_layer.weight",
                               "visual_transformer_blocks.0.cross_attention.to_query.weight"),
                              shapes=(("visual_embeddings.in_layer.weight", 1, 64),)),)),
    # Krea 2's text fusion stage, in the original (ComfyUI's) key names and diffusers'
    ("krea2", (Detection(("txtfusion.projector.weight",)), Detection(("text_fusion.projector.weight",)))),
    # LTX-2's audio-video transformer: its two patch projections, in the original (ComfyUI's) names and diffusers'
    ("ltx2", (Detection(("patchify_proj.weight", "audio_patchify_proj.weight")),
              Detection(("proj_in.weight", "audio_proj_in.weight", "audio_time_embed.linear.weight")))),
    # Wan 2.2 5B (TI2V): Wan's layout on the 48-channel latents of the Wan 2.2 VAE (its patch embedding's input)
    ("wan22", (Detection(("patch_embedding.weight", "text_embedding.0.weight", "blocks.0.self_attn.q.weight"),
                         shapes=(("patch_embedding.weight", 1, 48),)),
               Detection(("patch_embedding.weight", "condition_embedder.text_embedder.linear_1.weight",
                          "blocks.0.attn1.to_q.weight"), shapes=(("patch_embedding.weight", 1, 48),)))),
    # Wan 2.1 / 2.2's 3D patch embedding and text embedding, in Wan's original (ComfyUI's) names and diffusers'
    ("wan", (Detection(("patch_embedding.weight", "text_embedding.0.weight", "blocks.0.self_attn.q.weight")),
             Detection(("patch_embedding.weight", "condition_embedder.text_embedder.linear_1.weight",
                        "blocks.0.attn1.to_q.weight")))),
    # Stable Audio 3's DiT: the shared global-conditioning (AdaLN) embedder, in stable-audio-tools' (ComfyUI's)
    # names under model.model. and in diffusers'
    ("stable-audio-3", (Detection(("model.transformer.global_cond_embedder.0.weight",)),
                        Detection(("global_cond_embedder.0.weight", "memory_tokens", "to_global_embed.0.weight")))),
    # MiniMax H3's joint video + audio stream: its audio patch projection and text token refiner, in
    # the original (ComfyUI's) key names and diffusers'
    ("minimax-h3", (Detection(("audio_patch_proj.weight", "token_refiner.blocks.0.attn.qkv_proj.weight")),
                    Detection(("audio_proj_in.weight", "token_refiner.refiner_blocks.0.attn.to_q.weight")))),
)

#: `modelspec.architecture` prefixes (and GGUF `general.architecture` values) -> family, first match
#: wins. The SD families keep the library's names (sd1, sd2, sdxl); the others are `DENOISERS`' names.
ARCHITECTURES = (
    ("stable-diffusion-xl", "sdxl"), ("stable-diffusion-v1", "sd1"), ("stable-diffusion-v2", "sd2"),
    ("stable-diffusion-v3", "sd3"), ("stable-diffusion-3", "sd3"), ("flux-3", "flux3"), ("flux.3", "flux3"),
    ("flux3", "flux3"), ("flux-2-klein", "flux2-klein"), ("flux.2-klein", "flux2-klein"), ("flux-2", "flux2"),
    ("flux2", "flux2"),
    ("flux.1-fill", "flux-fill"), ("flux-1-fill", "flux-fill"), ("flux-1", "flux"), ("flux.1", "flux"),
    ("flux", "flux"), ("chroma", "chroma"), ("qwen-image-2.1", "qwen-image-2.1"),
    ("qwen_image_2.1", "qwen-image-2.1"), ("qwen-image-layered", "qwen-image-layered"),
    ("qwen_image_layered", "qwen-image-layered"), ("qwen-image", "qwen-image"),
    ("qwen_image", "qwen-image"), ("z-image", "z-image"), ("krea-2", "krea2"), ("krea2", "krea2"),
    ("kandinsky-5", "kandinsky5"), ("kandinsky5", "kandinsky5"),
    ("minimax-h3", "minimax-h3"), ("minimax_h3", "minimax-h3"), ("longcat-image", "longcat-image"),
    ("longcat_image", "longcat-image"),
    ("hidream", "hidream"),
    ("minimax-h3", "minimax-h3"), ("minimax_h3", "minimax-h3"), ("stable-audio-3", "stable-audio-3"),
    ("stable_audio_3", "stable-audio-3"),
    ("lumina", "lumina2"), ("wan2.2-ti2v", "wan22"), ("wan22", "wan22"), ("wan", "wan"), ("ltx-2", "ltx2"),
    ("ltx2", "ltx2"), ("sd3", "sd3"), ("t5", "t5"),
)

#: Wrappers files put around a denoiser's own key names (an SD ControlNet's copy of its UNet: `control_model.`).
_PREFIXES = ("model.diffusion_model.", "diffusion_model.", "transformer.", "model.", "control_model.")

#: An SD UNet's tensors that tell which SD it is, in the original and diffusers' naming: SDXL's added
#: size-and-crop embedding, the first cross-attention's key projection (as wide as the text encoder's
#: states: CLIP-L's 768 for SD 1.x, OpenCLIP-H's 1024 for SD 2.x) and the input convolution (an
#: inpainting UNet takes 9 channels: latent, mask, masked picture).
_SD_ADDED = ("label_emb.0.0.weight", "add_embedding.linear_1.weight")
_SD_CROSS = ("input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
             "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight")
_SD_CONV_IN = ("input_blocks.0.0.weight", "conv_in.weight")


def suffix_index(keys: Iterable[str]) -> dict[str, str]:
    """{key without any of the wrappers files put around a denoiser: full key}."""
    index: dict[str, str] = {}
    for key in keys:
        bare = key
        for prefix in _PREFIXES:
            if bare.startswith(prefix):
                bare = bare[len(prefix):]
                break
        index.setdefault(bare, key)
    return index


def bare_shapes(shapes: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """{key without its wrapper prefix: shape}, for reading a denoiser's sizes off its header."""
    return {bare: tuple(int(d) for d in shapes[key]) for bare, key in suffix_index(shapes).items()}


def architecture_family(architecture: str) -> str | None:
    """The family a `modelspec.architecture` value names ("flux-1-dev/lora" -> "flux"), or None."""
    base = architecture.strip().lower().partition("/")[0]
    return next((family for prefix, family in ARCHITECTURES if base.startswith(prefix)), None) if base else None


def denoiser_family(shapes: Mapping[str, Any], architecture: str = "") -> str | None:
    """The family of the denoiser whose weights have these {key: shape} (a header is enough): by
    its keys, else by the architecture its metadata names; None for an SD UNet or anything else."""
    index = suffix_index(shapes)
    for family, rules in DENOISERS:
        if any(_matches(rule, index, shapes) for rule in rules):
            return family
    return architecture_family(architecture) if architecture else None


@dataclass(frozen=True)
class SdArchitecture:
    """Which Stable Diffusion a UNet is: its generation ("sd1", "sd2", "sdxl", the library's family
    names) and whether it inpaints."""

    generation: str
    inpainting: bool


def sd_architecture(shapes: Mapping[str, Any]) -> SdArchitecture:
    """Which SD the UNet in these {key: shape} is (alone, in a checkpoint, or copied by a ControlNet),
    read off its own tensors in either naming under any wrapper, so a lone UNet tells as much as a
    checkpoint: SDXL by its added embedding, SD 2.x by a 1024-wide first cross-attention, inpainting
    by 9 input channels. What shows none of these is SD 1.x, as diffusers'
    `infer_diffusers_model_type` takes it. The one rule the library files SD models by and the
    loaders pick their shipped configs by."""
    index = suffix_index(shapes)

    def size(names: tuple[str, ...], axis: int) -> int | None:
        shape = next((shapes[index[n]] for n in names if n in index), None)
        return int(shape[axis]) if shape is not None and len(shape) > axis else None

    if any(name in index for name in _SD_ADDED):
        generation = "sdxl"
    else:
        generation = "sd2" if size(_SD_CROSS, 1) == 1024 else "sd1"
    return SdArchitecture(generation, size(_SD_CONV_IN, 1) == 9)


def _matches(rule: Detection, index: Mapping[str, str], shapes: Mapping[str, Any]) -> bool:
    if any(k not in index for k in rule.keys) or any(k in index for k in rule.without):
        return False
    for key, axis, size in rule.shapes:
        shape = shapes.get(index.get(key, ""))
        if shape is None or len(shape) <= axis or int(shape[axis]) != size:
            return False
    return True
