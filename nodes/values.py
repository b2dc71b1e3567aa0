"""The values that travel on links between nodes: NodeFlow's plugin API.

Plugins import these names (`from nodes.values import Model, Conditioning`); they are kept
stable. Tensor helpers for pictures and masks are in `nodes._tensors`.

MODEL, CLIP and VAE are small dataclasses around the diffusers / transformers modules a checkpoint holds;
CONDITIONING, NOISE, SAMPLER and GUIDER are plain descriptions the sampler turns into a diffusers scheduler
and loop (`nodes.sampling._loop`) or a ComfyUI-convention run (`nodes.sampling._comfy_sampling`); SIGMAS
holds real noise levels.

LATENT is a dict, as in ComfyUI; its keys are described in `nodes.latent`.

The registry's listing pass imports only the names: torch and diffusers load lazily (`nodes._lazy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nodes._latent_numbers import (  # noqa: F401  (re-exported: the plugin API)
    STD_TIMES,
    _per_channel,
    opaque_for,
    patchify,
    statistics,
    stored_latents,
    unpatchify,
    vae_channels,
    vae_patch,
    vae_scale,
    vae_shift,
)
from nodes._lazy import lazy

torch = lazy("torch")


@dataclass(frozen=True)
class SkipLayers:
    """Skip Layer Guidance: a further call of the positive prompt with these transformer blocks
    skipped, whose output the guided one is pushed away from by `scale` (the pipeline's and ComfyUI's
    `guided + (cond - skipped) * scale`) while the run is between `start` and `end` (fractions)."""

    layers: tuple[int, ...]
    scale: float
    start: float
    end: float


@dataclass(eq=False)
class Model:
    """MODEL: the denoiser (a UNet, or a transformer of a declared family) and what sampling needs
    to know about its checkpoint. `unet` holds whichever denoiser it is (the name predates the
    transformers); `family` names its declared description (`nodes.families`), which sampling,
    guidance and previews ask through `spec`."""

    unet: Any
    #: The checkpoint's own scheduler config (prediction type, betas, zero-SNR, spacing...).
    scheduler_config: dict[str, Any]
    #: Pixel size of one latent cell (2 ** (VAE levels - 1)) and the latent channel count.
    vae_scale_factor: int
    latent_channels: int
    device: str
    dtype: Any
    name: str = ""
    #: "sd" or "sdxl" (SDXL needs pooled text embeddings and size conditioning), or the name of a
    #: declared family ("flux", "sd3", "chroma", ...: see `nodes.families`).
    family: str = "sd"
    #: The checkpoint's VAE, used once to fit the cheap latent -> RGB preview projection; not needed to
    #: sample: a memory budget may free it while the UNet runs ("on demand").
    vae: Any = field(default=None, metadata={"weights": "on demand"})
    preview_projection: Any = None  # used when there is no VAE; else kept on the VAE
    #: Differential Diffusion's strength (a soft inpainting mask as per-cell strength, see
    #: `nodes.sampling._differential`); None: the mask is used as it is.
    differential: float | None = None
    #: CFG Norm's (strength, pre_cfg) and Renorm CFG's (cfg_trunc, renorm_cfg): guidance held to the positive
    #: prompt's size, in the comfyui convention (`nodes.sampling.cfg_norm`); None: off.
    cfg_norm: tuple[float, bool] | None = None
    renorm_cfg: tuple[float, float] | None = None
    #: The checkpoint's CLIP: what an unconnected negative prompt is encoded with (the empty prompt, as
    #: diffusers' pipelines do). On demand too.
    clip: Any = field(default=None, metadata={"weights": "on demand"})
    #: Skip Layer Guidance (SD3's Skip Layer Guidance node); None: off.
    skip_layers: SkipLayers | None = None
    #: Where and how the prompt and reference tokens' keys and values are kept across steps (QwenImage21Cache:
    #: device "auto", "gpu", "cpu" or "off", dtype "default", "int8", "int4"); None: as the pipeline keeps them.
    prefix_cache: tuple[str, str] | None = None
    #: Flux KV Cache: a Flux.2 transformer keeps its reference pictures' keys and values from the first step.
    reference_cache: bool = False
    #: Pipeline guidance settings beside cfg (Lumina 2 Guidance), for the family adapter's `mix` / `guided_at`.
    guidance_options: dict[str, Any] | None = None
    control: Any = None  # a ControlNet run beside the transformer, with its picture (`nodes.models.model_patch`)
    rope_options: tuple[float, ...] | None = None  # Scale ROPE's (scale, shift) x, y, t: `nodes.vision.rope`

    @property
    def spec(self) -> Any:
        """The declared family (`nodes.families.Family`), or None for the SD UNet families."""
        from nodes.families import by_name

        return by_name(self.family)

    @property
    def in_channels(self) -> int:
        return int(self.unet.config.in_channels)

    @property
    def is_inpaint(self) -> bool:
        """A 9-channel inpainting UNet (latents + mask + masked-image latents); a declared family has none."""
        return self.spec is None and self.in_channels == self.latent_channels * 2 + 1


@dataclass(eq=False)
class Clip:
    """CLIP: tokenizer(s) and text encoder(s).

    `last_layer` (CLIP Set Last Layer, ComfyUI's stop_at_clip_layer) is -1 for the last layer, -2
    for the one before...; None keeps the model family's default (last for SD 1.x/2.x, penultimate
    for SDXL).
    """

    tokenizer: Any
    text_encoder: Any
    device: str
    dtype: Any
    tokenizer_2: Any = None
    text_encoder_2: Any = None
    last_layer: int | None = None
    tokenizer_3: Any = None
    text_encoder_3: Any = None
    tokenizer_4: Any = None  # HiDream's fourth encoder (Llama 3.1)
    text_encoder_4: Any = None
    #: The declared family whose encoders these are (`nodes.families`); "" for SD 1.x/2.x/SDXL.
    family: str = ""
    #: T5 Tokenizer Options: (min_padding, min_length), how many padding tokens a masked T5 prompt
    #: keeps visible (Chroma); None: the family's pipeline's rule.
    t5_options: tuple[int, int] | None = None

    @property
    def spec(self) -> Any:
        """The declared family (its encoders, its prompt encoding), or None for the SD families."""
        from nodes.families import by_name

        return by_name(self.family)

    def part(self, name: str) -> tuple[Any, Any]:
        """(tokenizer, text encoder) of a diffusers part name: "text_encoder", "text_encoder_2", ..."""
        return getattr(self, name.replace("text_encoder", "tokenizer")), getattr(self, name)


@dataclass(eq=False)
class Vae:
    """VAE: the autoencoder, with the numbers that relate latents to pixels."""

    vae: Any
    device: str
    dtype: Any
    #: The latent -> RGB preview map fitted for this VAE (see nodes.sampling._preview.latent_preview).
    preview_projection: Any = None
    #: The declared family it was loaded as (`nodes.families`), "" if none.
    family: str = ""

    @property
    def scale_factor(self) -> int:
        return vae_scale(self.vae.config)

    @property
    def scaling_factor(self) -> float:
        return float(getattr(self.vae.config, "scaling_factor", None) or 1.0)

    @property
    def latent_channels(self) -> int:
        return vae_channels(self.vae.config)

    @property
    def frames(self) -> bool:
        """Whether it is a video VAE (Qwen-Image's, Wan's); for a picture family a picture is one frame."""
        return getattr(self.vae.config, "temperal_downsample", None) is not None

    @property
    def temporal(self) -> int:
        """Frames per latent frame of a video family's VAE, else 0 (`nodes.latent._frames`)."""
        from nodes.families import by_name

        return by_name(self.family).latent.temporal if by_name(self.family) else 0

    def numbers(self) -> dict[str, Any]:
        """What relates its latents to a LATENT's samples (see `stored_latents`)."""
        config = self.vae.config
        found = {"scaling_factor": self.scaling_factor, "shift_factor": self.shift_factor}
        if (stats := statistics(self.vae)) is not None:
            found |= {"latents_mean": stats[0], "latents_std": stats[1]}
        patch = vae_patch(config)
        if patch > 1:  # Flux2Pipeline's statistics: the running mean, sqrt(running variance + eps)
            bn = self.vae.bn
            std = torch.sqrt(bn.running_var + config.batch_norm_eps)
            found |= {"patch": patch, "bn_mean": bn.running_mean.tolist(), "bn_std": std.tolist()}
        return found

    def encode_dist(self, pixels: Any) -> tuple[Any, Any]:
        """(mean, std) of the VAE's posterior for pictures [B, 3, H, W] in [-1, 1], [B, C, h, w] each
        (an RGBA VAE, Qwen Image 2.1's or Qwen-Image Layered's, sees them opaque: `opaque_for`);
        a video [B, 3, F, H, W] gives [B, C, frames, h, w] each."""
        pixels = opaque_for(self.vae.config, pixels)
        posterior = self.vae.encode(pixels.unsqueeze(2) if self.frames and pixels.ndim == 4 else pixels).latent_dist
        if self.frames and pixels.ndim == 4:
            return posterior.mean[:, :, 0], posterior.std[:, :, 0]
        return posterior.mean, posterior.std

    def raw(self, samples: Any) -> Any:
        """The VAE's own latents from a LATENT's samples: undo the per-channel normalisation
        (latents_mean / latents_std, Qwen-Image's pipelines' order: / (1 / std) + mean, or * std + mean for
        the VAEs in `STD_TIMES`), the batch norm of patched latents (Flux.2's) or the scaling and shift."""
        import torch

        numbers = self.numbers()
        if numbers.get("bn_mean") is not None:  # Flux2Pipeline's order: * std + mean, then unpatched
            patched = samples * _per_channel(numbers["bn_std"], samples) + _per_channel(numbers["bn_mean"], samples)
            return unpatchify(patched, numbers["patch"])
        if (mean := numbers.get("latents_mean")) is not None:
            shape = (1, len(mean)) + (1,) * (samples.dim() - 2)
            mean_t = torch.tensor(mean).view(shape).to(samples.device, samples.dtype)
            std = torch.tensor(numbers["latents_std"]).view(shape).to(samples.device, samples.dtype)
            if type(self.vae).__name__ in STD_TIMES:
                return samples * std + mean_t
            return samples / (1.0 / std) + mean_t
        raw = samples / self.scaling_factor
        return raw + self.shift_factor if self.shift_factor else raw

    @property
    def shift_factor(self) -> float:
        """Subtracted before scaling (Flux's and SD3's VAEs); 0 for SD's and where the family's pipeline leaves it."""
        return vae_shift(self.vae.config, self.family)


@dataclass(eq=False)
class AudioVae:
    """VAE (audio): LTX-2's audio autoencoder (log-mel spectrogram <-> latents, diffusers'
    AutoencoderKLLTX2Audio) and the vocoder that turns its spectrograms into a waveform. It travels
    on a VAE socket, as in ComfyUI; the nodes that take it say so when given a picture VAE."""

    vae: Any
    vocoder: Any
    device: str
    dtype: Any

    @property
    def latent_channels(self) -> int:
        return int(self.vae.config.latent_channels)

    @property
    def frequency_bins(self) -> int:
        """Latent bins across the spectrogram's mel bins (4x fewer)."""
        return int(self.vae.config.mel_bins) // int(self.vae.mel_compression_ratio)

    @property
    def latents_per_second(self) -> float:
        config = self.vae.config
        return float(config.sample_rate) / float(config.mel_hop_length) / float(self.vae.temporal_compression_ratio)

    @property
    def sample_rate(self) -> int:
        """Samples per second of the waveform the vocoder makes."""
        return int(self.vocoder.config.output_sampling_rate)

    def latent_frames(self, frames: int, frame_rate: float) -> int:
        """Audio latent frames for `frames` frames at `frame_rate`: round(seconds x latents per second)."""
        return round(frames / frame_rate * self.latents_per_second)


@dataclass(eq=False)
class CondEntry:
    """One prompt's text-encoder output, and where and when it applies (see `nodes.sampling._cond_call`).

    `pooled` and `size` only matter for SDXL. `area` is (height, width, y, x) in pixels; `mask` a
    [1 or B, H, W] map (any resolution) scaled by `mask_strength`; `time_range` the (start, end)
    fractions of the noise schedule during which the prompt is used; `controls` the ControlNets
    that steer the model while this prompt is used.
    """

    embeds: Any  # [1, tokens, dim]
    pooled: Any = None
    strength: float = 1.0
    text: str = ""
    area: tuple[int, int, int, int] | None = None
    mask: Any = None
    mask_strength: float = 1.0
    #: With a mask: run the model only on the mask's bounding box (ComfyUI's "mask bounds").
    mask_bounds: bool = False
    time_range: tuple[float, float] = (0.0, 1.0)
    #: SDXL size conditioning: (original h, original w, crop top, crop left, target h, target w).
    size: tuple[int, int, int, int, int, int] | None = None
    controls: tuple[Any, ...] = ()
    #: Flow families: the distilled guidance the model embeds (FluxGuidance); None = the family's default.
    guidance: float | None = None
    #: Reference latents ([1, C, h, w] each, scaled) the model attends to (Kontext's ReferenceLatent).
    references: tuple[Any, ...] = ()
    #: Extra channels concatenated to the model input ([B, C', h, w]: Fill's masked picture and mask).
    concat: Any = None
    #: The text encoder's token mask where the family uses one (Chroma).
    attention_mask: Any = None
    #: How reference latents are placed beside the picture (ComfyUI's reference_latents_method:
    #: "offset", "index", "uxo"); None: the family's first declared method.
    reference_method: str | None = None
    #: Qwen Image 2.1: [1, tokens] booleans, True at the picture slots of `embeds` (Qwen3-VL's
    #: <|image_pad|> tokens), each standing for 2x2 cells of the `references` in order.
    slots: Any = None
    #: LTX-2: the video's frames per second (LTX Conditioning), spacing its rotary time; None: 25.
    frame_rate: float | None = None
    #: A family's own conditioning beside the states (MiniMax H3's tags and guides: nodes.minimax_h3).
    extra: Any = None

    def with_(self, **changes: Any) -> CondEntry:
        """A copy with some fields changed (conditioning nodes never edit their input)."""
        import dataclasses

        return dataclasses.replace(self, **changes)


@dataclass(eq=False)
class Conditioning:
    """CONDITIONING: one or more prompts; several are averaged (Conditioning Combine)."""

    entries: list[CondEntry] = field(default_factory=list)


@dataclass(frozen=True)
class NoiseSource:
    """NOISE: a seed. Noise is drawn on the CPU, so a seed means the same image on any device."""

    seed: int
    enabled: bool = True

    def generator(self) -> Any:
        return torch.Generator("cpu").manual_seed(int(self.seed))


@dataclass(frozen=True)
class SamplerChoice:
    """SAMPLER: a sampler name (mapped to a diffusers scheduler class) and its options."""

    name: str
    #: How much fresh noise an ancestral step adds (1 = diffusers' / k-diffusion's default).
    eta: float = 1.0


@dataclass(frozen=True)
class Schedule:
    """A diffusers schedule: a spacing, a step count, how much to denoise, and which steps to run.

    The diffusers convention rebuilds the checkpoint's diffusers scheduler from this, which keeps
    its pixels equal to diffusers' pipelines. start_step / end_step (KSampler Advanced) run only
    steps [start, end); without leftover noise an early end steps to sigma 0 instead.
    """

    scheduler: str
    steps: int
    denoise: float = 1.0
    start_step: int = 0
    end_step: int | None = None
    leftover_noise: bool = False


@dataclass(eq=False)
class Sigmas:
    """SIGMAS: the noise levels a run visits, descending (a float32 CPU tensor, usually ending at 0).

    `schedule` is set when the levels are a diffusers schedule (the Scheduler node in the diffusers
    convention): Sample then runs the diffusers scheduler itself for exact pipeline parity. Sigmas
    made or edited any other way run with the k-diffusion samplers of the ComfyUI convention.
    `values` is None only for a diffusers schedule made without a model to read the levels from.
    """

    values: Any
    schedule: Schedule | None = None


@dataclass(eq=False)
class Guider:
    """GUIDER: model + prompts + guidance settings; `middle`: Dual CFG Guider's (cond2, its cfg, nested)."""

    model: Model
    positive: Conditioning
    negative: Conditioning | None
    cfg: float
    guidance_rescale: float = 0.0
    #: Each stream's own scale over a latent with a soundtrack (LTXV Dual CFG Guider: the video's, the
    #: sound's; `nodes.latent._streams.guidance_scale`); empty: `cfg` for all. `cfg` is then the largest.
    stream_cfg: tuple[float, ...] = ()
    middle: tuple[Conditioning, float, bool] | None = None


@dataclass(eq=False)
class UpscaleModel:
    """UPSCALE_MODEL: a picture upscaler as spandrel describes it (`descriptor`: scale, tiling, half
    support; calling it upscales) and its torch module in a field of its own, where the memory
    manager finds it to count, pin, move and free it like any other model part."""

    descriptor: Any
    module: Any
