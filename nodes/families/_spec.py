"""What a model family is, as data: the fields every family declares (see `_declared`).

Sampling, CFG, conditioning, previews, the memory plan and the loaders read these fields; none of
them tests a family's name. A family's own maths (how its prompt is encoded, how its denoiser is
called) lives in one adapter module that the description names, imported only when a run needs it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from nodeflow.core import NodeError

#: How a prompt longer than its pipeline's window is read, the one rule for every family (Text Encode's
#: `long_prompt`): "cut" at the window, as the diffusers pipeline cuts it (the diffusers convention, NodeFlow's
#: default), or "chunk", as ComfyUI reads it (the comfyui convention; the ComfyUI importer sets it): CLIP window
#: by window, a language model or T5 whole (its tokenizers cut nothing), where the family declares no cut of
#: ComfyUI's own (`TextEncoder.comfy_max_length`).
LONG_PROMPTS = ("cut", "chunk")
LONG_PROMPT_HELP = ("Past the text encoder's window: 'cut' as diffusers' pipeline cuts it (with a warning naming "
                    "the words cut off), or 'chunk', as ComfyUI reads it: a CLIP encoder window by window, joined "
                    "(SD 1.x/2.x), a language model or T5 the whole prompt. Imported ComfyUI workflows use "
                    "'chunk'.")


@dataclass(frozen=True)
class TextEncoder:
    """One text encoder of a family: its part name in a diffusers folder, classes and output."""

    part: str  # "text_encoder", "text_encoder_2", ...
    model: str  # transformers class name
    tokenizer: str  # transformers tokenizer class name
    #: The pipeline's window: the tokens it pads a prompt to and cuts it at (its max_sequence_length
    #: default); 0 where the pipeline cuts nothing.
    max_length: int
    #: What the family takes from it: "pooled" (CLIP pooled vector), "last" (last hidden states),
    #: "penultimate+pooled" (SD3's CLIPs: penultimate states and the projected pooled vector).
    output: str
    #: ComfyUI's name for this kind of file (used in messages and by the split loaders).
    comfy_name: str = ""
    #: Tokens the comfyui convention keeps of a prompt: ComfyUI's own cut (HiDream's T5: 128), or the
    #: text positions diffusers' transformer has where they are fewer than ComfyUI reads (Lumina 2's
    #: 299: its axes_lens[0] rotary rows, the picture in the next; HiDream's Llama: the 128 of T5's
    #: tokens its transformer lays the Llama states beside); 0 for the whole prompt, as
    #: ComfyUI's language-model and T5 tokenizers read it.
    comfy_max_length: int = 0

    def window(self, tokenizer: Any) -> int:
        """Tokens the prompt is padded to: the pipeline's `max_length`, or the tokenizer's own window
        where that is shorter (a model trained on short prompts, like the built-in tiny-shapes-flow's
        16 tokens, whose pipeline is called with max_sequence_length set to it)."""
        own = getattr(tokenizer, "model_max_length", None)
        return min(self.max_length, int(own)) if isinstance(own, int) and own > 0 else self.max_length

    def cut(self, tokenizer: Any, long_prompt: str) -> int | None:
        """Tokens a prompt is cut at under `long_prompt` (`LONG_PROMPTS`): the window where the pipeline
        cuts ("cut"), ComfyUI's own cut ("chunk"); None where the whole prompt is read."""
        if long_prompt not in LONG_PROMPTS:
            raise NodeError(f"unknown long_prompt '{long_prompt}' (known: {', '.join(LONG_PROMPTS)})",
                            "long_prompt")
        if long_prompt == "chunk":
            return self.comfy_max_length or None
        return self.window(tokenizer) or None


@dataclass(frozen=True)
class LatentFormat:
    """How the family's latents look: channels of its VAE, scaling and shift, token packing.

    LATENT["samples"] holds (raw - shift) * scaling, [B, channels, h, w], as ComfyUI keeps it, or
    [B, channels, frames, h, w] for a video family (`temporal` > 0, see `nodes.latent._frames`);
    the denoiser's own token layout (`patch` x `patch` cells per token) is made inside its call.
    """

    channels: int
    scaling_factor: float
    shift_factor: float = 0.0
    downscale: int = 8
    patch: int = 1
    #: A video family's frames per latent frame (its VAE's temporal compression: Wan's 4 makes 4k + 1
    #: frames k + 1 latent frames); 0 for a picture family. With it, latents have a frame axis and
    #: its VAE encodes an IMAGE batch as one video's frames (ComfyUI's layout).
    temporal: int = 0
    #: Whether a picture family's latents carry a frame axis all the same: Qwen-Image Layered's frames are
    #: the composite and its layers ([B, C, 1 + layers, h, w]), each decoded alone by a picture VAE.
    layered: bool = False
    #: An audio family's sample rate (Hz): its latents are [B, channels, latent steps], `downscale` samples
    #: of sound a step (Stable Audio 3's 4096); 0 for a picture or video family.
    sample_rate: int = 0


@dataclass(frozen=True)
class Family:
    """One model family, declared once."""

    name: str
    title: str
    #: diffusers class of the denoiser, and the key of its part in a diffusers folder.
    denoiser: str
    encoders: tuple[TextEncoder, ...]
    latent: LatentFormat
    #: "epsilon", "v_prediction" or "flow" (rectified flow: the model predicts noise - image).
    prediction: str
    #: The diffusers pipeline whose pixels the diffusers convention reproduces.
    pipeline: str
    #: Shipped configs and tokenizers: resources/configs/<config>/ (a diffusers folder layout).
    config: str
    #: Module holding the family's maths: `encode(ctx, clip, text, texts=None, long_prompt="cut")` (the prompt
    #: read as `TextEncoder.cut` says) and `Denoise` (see flow/_call).
    adapter: str
    #: How the pipeline runs classifier-free guidance: "batched" (negative and positive in one
    #: call) or "separate" (two calls, the pipeline's "true CFG").
    cfg: str = "batched"
    #: diffusers class of the VAE.
    vae: str = "AutoencoderKL"
    #: How the pipeline picks its noise levels: "linspace" (sigmas 1 .. 1/n, then shifted), "scheduler" (the
    #: scheduler's own spacing of its training table) or "own" (its adapter's `levels(steps)`: Stable Audio 3's
    #: log-SNR schedule).
    sigmas: str = "scheduler"
    #: How the pipeline's resolution-dependent shift mu follows the picture (with dynamic shifting):
    #: "linear" (calculate_shift over the token count: Flux.1, Qwen-Image), "empirical" (Flux.2's
    #: compute_empirical_mu over the token count and the number of steps) or "channels" (calculate_shift
    #: over latents.shape[1] of unpacked latents, the channel count, as Lumina2Pipeline measures it) or
    #: "reference" (sqrt(tokens / 256) of one frame, the reference picture's size: QwenImageLayeredPipeline).
    shift_rule: str = "linear"
    #: Guidance the model takes as an input (Flux dev's distilled guidance), if it has one.
    guidance_default: float | None = None
    #: ComfyUI's names: CLIPLoader / DualCLIPLoader / TripleCLIPLoader `type` values.
    comfy_clip_types: tuple[str, ...] = ()
    #: ComfyUI's default shift for its ModelSampling (flow models: the multiplier of t).
    comfy_shift: float = 1.0
    #: ComfyUI's flow models with a resolution-dependent shift (ModelSamplingFlux) or a constant one.
    comfy_dynamic_shift: bool = False
    #: Extra image channels the denoiser takes beside the latent (Fill: mask + masked image).
    conditioning_channels: int = 0
    #: The picture side (pixels) the family makes by default (Empty Latent at width/height 0).
    native_side: int = 1024
    #: diffusers' LoRA loader mixin whose `lora_state_dict` converts the formats people share
    #: (kohya, BFL/xlabs, diffusers) to diffusers' module names for this family.
    lora_loader: str = ""
    #: How reference latents (Reference Latent) are placed beside the picture's tokens, by ComfyUI's
    #: reference_latents_method names, the pipeline's own first; () if the family takes none.
    reference_methods: tuple[str, ...] = ()
    #: Whether its transformer can skip blocks for Skip Layer Guidance (diffusers' `skip_layers`).
    skip_layer_guidance: bool = False
    #: Whether a noise mask's kept part stays the clean latent at every step (not re-noised to each
    #: level) and the denoiser call is told the mask (`Joint.mask`) as per-token timesteps: LTX-2's frame
    #: conditioning, as LTX2ImageToVideoPipeline and ComfyUI's LTXV models keep a start frame.
    mask_keeps_clean: bool = False
    #: (mean, std) per RGB channel of the [0, 1] pixels its VAE takes and gives, where not [-1, 1]
    #: (MiniMax H3's ImageNet statistics); `nodes.vae.codec` applies them.
    pixel_stats: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    #: diffusers class of its soundtrack VAE where a plain VAE loader loads one (MiniMax H3's), or of its own
    #: VAE where that makes sound (Stable Audio 3's, `vae` too); its adapter's `audio_vae(model, device, dtype)`
    #: makes the value VAE Decode Audio takes.
    audio_vae: str = ""
    #: Whether its pipeline stores latents with the VAE's shift_factor (Flux's and SD3's do); False where it
    #: decodes latents / scaling_factor only (Kandinsky5T2IPipeline), so a VAE's shift is then left out.
    vae_shift: bool = True
    #: Keys (or their ends) that tell a lone VAE file in a layout of the family's own, which its adapter's
    #: `load_vae_file(path, device, dtype, place)` reads for Load VAE (ComfyUI's VAELoader): LTX-2's video
    #: and audio VAEs. () where its lone VAE files are AutoencoderKL's or Wan's (`nodes.models._split_loaders`).
    vae_file_keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def module(self) -> Any:
        """The adapter module (imported on first use: it needs torch)."""
        return importlib.import_module(self.adapter)

    @property
    def is_flow(self) -> bool:
        return self.prediction == "flow"

    @property
    def is_video(self) -> bool:
        """Whether its latents have a frame axis ([B, C, frames, h, w])."""
        return self.latent.temporal > 0

    @property
    def has_frames(self) -> bool:
        """Whether its latents have a frame axis: a video family's, or a layered picture family's."""
        return self.is_video or self.latent.layered
