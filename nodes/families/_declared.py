"""Every model family NodeFlow knows beyond the SD UNets, each declared once.

A new family is one more entry here plus its adapter module (prompt encoding and the denoiser
call), and its detection rules under the same name in `nodeflow.core.family_detection` (the table
the model library shares); sampling, guidance, previews, loaders and the memory plan need no change.
"""

from __future__ import annotations

from nodes.families._declared_audio import AUDIO_FAMILIES
from nodes.families._declared_video import VIDEO_FAMILIES
from nodes.families._spec import Family, LatentFormat, TextEncoder

CLIP_L_POOLED = TextEncoder("text_encoder", "CLIPTextModel", "CLIPTokenizer", 77, "pooled", "clip_l")
T5_FLUX = TextEncoder("text_encoder_2", "T5EncoderModel", "T5TokenizerFast", 512, "last", "t5xxl")
FLUX_LATENT = LatentFormat(channels=16, scaling_factor=0.3611, shift_factor=0.1159, downscale=8, patch=2)
SD3_LATENT = LatentFormat(channels=16, scaling_factor=1.5305, shift_factor=0.0609, downscale=8, patch=1)

FLUX_FILL = Family(
    name="flux-fill",
    title="Flux.1 Fill",
    denoiser="FluxTransformer2DModel",
    encoders=(CLIP_L_POOLED, T5_FLUX),
    latent=FLUX_LATENT,
    prediction="flow",
    pipeline="FluxFillPipeline",
    config="flux",  # the same configs; the input width is read off the weights
    adapter="nodes.flux._adapter",
    cfg="separate",
    sigmas="linspace",
    guidance_default=30.0,
    comfy_clip_types=(),  # its text encoders are Flux's: ComfyUI's type "flux" loads them as FLUX's
    comfy_shift=1.15,
    comfy_dynamic_shift=True,
    conditioning_channels=16 + 16 * 4,
    lora_loader="FluxLoraLoaderMixin",
)

CHROMA = Family(
    name="chroma",
    title="Chroma",
    denoiser="ChromaTransformer2DModel",
    encoders=(TextEncoder("text_encoder", "T5EncoderModel", "T5TokenizerFast", 512, "last+mask", "t5xxl"),),
    latent=FLUX_LATENT,
    prediction="flow",
    pipeline="ChromaPipeline",
    config="chroma",
    adapter="nodes.chroma._adapter",
    cfg="separate",
    sigmas="linspace",
    comfy_clip_types=("chroma",),
    comfy_shift=1.0,
    lora_loader="FluxLoraLoaderMixin",
)

FLUX = Family(
    name="flux",
    title="Flux.1 (dev, schnell, Kontext)",
    denoiser="FluxTransformer2DModel",
    encoders=(CLIP_L_POOLED, T5_FLUX),
    latent=FLUX_LATENT,
    prediction="flow",
    pipeline="FluxPipeline",
    config="flux",
    adapter="nodes.flux._adapter",
    cfg="separate",
    sigmas="linspace",
    guidance_default=3.5,
    comfy_clip_types=("flux",),
    comfy_shift=1.15,
    comfy_dynamic_shift=True,
    lora_loader="FluxLoraLoaderMixin",
    reference_methods=("offset", "index", "uxo"),
)

SD3 = Family(
    name="sd3",
    title="Stable Diffusion 3 / 3.5",
    denoiser="SD3Transformer2DModel",
    encoders=(TextEncoder("text_encoder", "CLIPTextModelWithProjection", "CLIPTokenizer", 77,
                          "penultimate+pooled", "clip_l"),
              TextEncoder("text_encoder_2", "CLIPTextModelWithProjection", "CLIPTokenizer", 77,
                          "penultimate+pooled", "clip_g"),
              TextEncoder("text_encoder_3", "T5EncoderModel", "T5TokenizerFast", 256, "last", "t5xxl")),
    latent=SD3_LATENT,
    prediction="flow",
    pipeline="StableDiffusion3Pipeline",
    config="sd3",
    adapter="nodes.sd3._adapter",
    cfg="batched",
    sigmas="scheduler",
    comfy_clip_types=("sd3",),
    comfy_shift=3.0,
    lora_loader="SD3LoraLoaderMixin",
    skip_layer_guidance=True,
)

Z_IMAGE = Family(
    name="z-image",
    title="Z-Image (Turbo, base)",
    denoiser="ZImageTransformer2DModel",
    encoders=(TextEncoder("text_encoder", "Qwen3Model", "Qwen2Tokenizer", 512, "states[-2], attended tokens",
                          "qwen_3_4b"),),
    latent=LatentFormat(channels=16, scaling_factor=0.3611, shift_factor=0.1159, downscale=8, patch=2),
    prediction="flow",
    pipeline="ZImagePipeline",
    config="z-image",
    adapter="nodes.z_image._adapter",
    cfg="batched",
    sigmas="linspace",
    comfy_clip_types=("lumina2",),
    comfy_shift=3.0,
    notes=("cfg is ComfyUI's: ZImagePipeline's guidance_scale is cfg - 1 (see nodes.z_image._adapter)",),
)

LUMINA2 = Family(
    name="lumina2",
    title="Lumina 2 (Lumina-Image 2.0, Neta Lumina)",
    denoiser="Lumina2Transformer2DModel",
    encoders=(TextEncoder("text_encoder", "Gemma2Model", "GemmaTokenizer", 256,
                          "states[-2], every position with its mask", "gemma2_2b", comfy_max_length=299),),
    latent=FLUX_LATENT,
    prediction="flow",
    pipeline="Lumina2Pipeline",
    config="lumina2",
    adapter="nodes.lumina2._adapter",
    cfg="separate",
    sigmas="linspace",
    shift_rule="channels",
    comfy_clip_types=("lumina2",),  # as Z-Image's: the file's kind (Gemma 2 or Qwen3) picks
    comfy_shift=6.0,
    lora_loader="Lumina2LoraLoaderMixin",
    notes=("the pipeline writes its system prompt before the positive prompt only: Text Encode (Lumina 2) "
           "does, Text Encode takes the text as written (nodes.lumina2._adapter)",),
)

QWEN_IMAGE = Family(
    name="qwen-image",
    title="Qwen-Image",
    denoiser="QwenImageTransformer2DModel",
    encoders=(TextEncoder("text_encoder", "Qwen2_5_VLForConditionalGeneration", "Qwen2Tokenizer", 512,
                          "states[-1] of the prompt after its 34-token template", "qwen_2.5_vl_7b"),),
    latent=LatentFormat(channels=16, scaling_factor=1.0, downscale=8, patch=2),
    prediction="flow",
    pipeline="QwenImagePipeline",
    config="qwen-image",
    adapter="nodes.qwen_image._adapter",
    cfg="separate",
    vae="AutoencoderKLQwenImage",
    sigmas="linspace",
    comfy_clip_types=("qwen_image",),
    reference_methods=("index",),
    comfy_shift=3.1,
    notes=("latents are normalised per channel by the VAE's latents_mean / latents_std (Vae.raw)",),
)

#: Qwen-Image Layered (QwenImageLayeredPipeline): a picture split into RGBA layers, the layers as latent
#: frames after the composite ([B, C, 1 + layers, h, w], `LatentFormat.layered`) and the picture as the
#: reference; its RGBA VAE is Qwen-Image's with 4 picture channels.
QWEN_IMAGE_LAYERED = Family(
    name="qwen-image-layered",
    title="Qwen-Image Layered",
    denoiser="QwenImageTransformer2DModel",
    encoders=QWEN_IMAGE.encoders,
    latent=LatentFormat(channels=16, scaling_factor=1.0, downscale=8, patch=2, layered=True),
    prediction="flow",
    pipeline="QwenImageLayeredPipeline",
    config="qwen-image-layered",
    adapter="nodes.qwen_image._layered",
    cfg="separate",
    vae="AutoencoderKLQwenImage",
    sigmas="linspace",
    shift_rule="reference",
    reference_methods=("index",),
    comfy_shift=QWEN_IMAGE.comfy_shift,
    native_side=640,
    notes=("the picture to split is the one reference latent (Reference Latent); the pipeline's plain true "
           "CFG (cfg_normalize off, its default), mu = sqrt(picture tokens / 256)",),
)

QWEN_IMAGE_21 = Family(
    name="qwen-image-2.1",
    title="Qwen Image 2.1 (and Turbo, Edit)",
    denoiser="QwenImage21Transformer2DModel",
    encoders=(TextEncoder("text_encoder", "Qwen3VLForConditionalGeneration", "Qwen2Tokenizer", 0,
                          "states[-1] before the final norm, after the system turn", "qwen3vl_8b"),),
    latent=LatentFormat(channels=64, scaling_factor=1.0, downscale=16, patch=1),
    prediction="flow",
    pipeline="QwenImage21Pipeline",
    config="qwen-image-2.1",
    adapter="nodes.qwen_image21._adapter",
    cfg="separate",
    vae="AutoencoderKLQwenImage21",
    sigmas="linspace",
    comfy_clip_types=("qwen_image",),  # ComfyUI's type for both Qwen-Image families: the file's kind picks
    comfy_shift=3.1,
    native_side=1024,
    notes=("references come before the picture's tokens, in the places Qwen3-VL's picture slots take "
           "(nodes.qwen_image21.nodes); the prefix's keys and values are cached across steps "
           "(QwenImage21Cache)",),
)

#: Flux.2's latents: the VAE's 32 channels at 8x, patched 2x2 and batch-normalised (nodes.values.stored_latents).
FLUX2_LATENT = LatentFormat(channels=128, scaling_factor=1.0, downscale=16, patch=1)

FLUX2_DEV = Family(
    name="flux2",
    title="Flux.2 dev",
    denoiser="Flux2Transformer2DModel",
    encoders=(TextEncoder("text_encoder", "Mistral3ForConditionalGeneration", "AutoTokenizer", 512,
                          "states 10, 20, 30 stacked", "mistral_3_small_flux2"),),
    latent=FLUX2_LATENT,
    prediction="flow",
    pipeline="Flux2Pipeline",
    config="flux2-dev",
    adapter="nodes.flux2._dev",
    cfg="separate",
    vae="AutoencoderKLFlux2",
    sigmas="linspace",
    shift_rule="empirical",
    guidance_default=4.0,
    comfy_clip_types=("flux2",),  # the file's kind picks dev (Mistral 3) or Klein (Qwen3)
    comfy_shift=2.02,
    comfy_dynamic_shift=True,
    lora_loader="Flux2LoraLoaderMixin",
)

FLUX2_KLEIN = Family(
    name="flux2-klein",
    title="Flux.2 Klein",
    denoiser="Flux2Transformer2DModel",
    encoders=(TextEncoder("text_encoder", "Qwen3ForCausalLM", "Qwen2Tokenizer", 512, "states 9, 18, 27 stacked",
                          "qwen_3_4b"),),
    latent=FLUX2_LATENT,
    prediction="flow",
    pipeline="Flux2KleinPipeline",
    config="flux2-klein",
    adapter="nodes.flux2._adapter",
    cfg="separate",
    vae="AutoencoderKLFlux2",
    sigmas="linspace",
    shift_rule="empirical",
    comfy_clip_types=("flux2",),
    comfy_shift=2.02,
    comfy_dynamic_shift=True,
    lora_loader="Flux2LoraLoaderMixin",
)

FLUX3 = Family(
    name="flux3",
    title="FLUX.3 [klein] (base, step-distilled)",
    denoiser="Flux3Transformer2DModel",
    encoders=(TextEncoder("text_encoder", "Qwen3VLForConditionalGeneration", "Qwen2Tokenizer", 8192,
                          "states 4, 8, ..., 32 stacked, the chat-templated prompt padded to a multiple of 80",
                          "qwen3vl_4b"),),
    latent=FLUX2_LATENT,
    prediction="flow",
    pipeline="Flux3ModularPipeline",
    config="flux3",
    adapter="nodes.flux3._adapter",
    cfg="separate",
    vae="AutoencoderKLFlux2",
    sigmas="linspace",
    comfy_clip_types=("flux3",),
    comfy_shift=6.93,
    lora_loader="Flux3LoraLoaderMixin",
    notes=("the step-distilled model (flow_map in its config, read off a file's ref_time_in weights) is "
           "Flux3DistilledModularPipeline's: cfg 1, and each step also tells it the timestep it jumps to",),
)

KREA2 = Family(
    name="krea2",
    title="Krea 2 (Raw, Turbo)",
    denoiser="Krea2Transformer2DModel",
    encoders=(TextEncoder("text_encoder", "Qwen3VLModel", "Qwen2Tokenizer", 512,
                          "states 2, 5, ..., 35 stacked per token, the prompt padded before its template's end",
                          "qwen3vl_4b"),),
    latent=LatentFormat(channels=16, scaling_factor=1.0, downscale=8, patch=2),
    prediction="flow",
    pipeline="Krea2Pipeline",
    config="krea2",
    adapter="nodes.krea2._adapter",
    cfg="separate",
    vae="AutoencoderKLQwenImage",
    sigmas="linspace",
    comfy_clip_types=("krea2",),
    comfy_shift=1.15,
    comfy_dynamic_shift=True,
    lora_loader="Krea2LoraLoaderMixin",
    reference_methods=("index_timestep_zero", "index"),
    notes=("cfg is ComfyUI's: Krea2Pipeline's guidance_scale g is cfg - 1 (see nodes.krea2._adapter)",
           "the Turbo (is_distilled in model_index.json) pins the pipeline's shift mu at 1.15",
           "a style reference (Text Encode (Qwen-Image Edit Plus)) is ComfyUI's; Krea2Pipeline has none"),
)

LONGCAT_IMAGE = Family(
    name="longcat-image",
    title="LongCat-Image (and Edit)",
    denoiser="LongCatImageTransformer2DModel",
    encoders=(TextEncoder("text_encoder", "Qwen2_5_VLForConditionalGeneration", "Qwen2Tokenizer", 512,
                          "states[-1] of the prompt padded to 512 tokens, between its template's head and tail",
                          "qwen_2.5_vl_7b"),),
    latent=FLUX_LATENT,
    prediction="flow",
    pipeline="LongCatImagePipeline",
    config="longcat-image",
    adapter="nodes.longcat._adapter",
    cfg="separate",
    sigmas="linspace",
    comfy_clip_types=("longcat_image",),
    comfy_shift=1.15,
    comfy_dynamic_shift=True,
    reference_methods=("index",),
    notes=("text-to-image renormalises guided velocities to the positive one's norm (the pipeline's "
           "enable_cfg_renorm), editing does not (LongCatImageEditPipeline): nodes.longcat._adapter.mix_for",),
)

#: Kandinsky 5 Image Lite (Kandinsky5T2IPipeline): its latents are the Flux VAE's, which the pipeline decodes
#: as latents / scaling_factor, without the VAE's shift (vae_shift).
KANDINSKY5 = Family(
    name="kandinsky5",
    title="Kandinsky 5 (Image Lite)",
    denoiser="Kandinsky5Transformer3DModel",
    encoders=(TextEncoder("text_encoder", "Qwen2_5_VLForConditionalGeneration", "Qwen2Tokenizer", 512,
                          "states[-1] after its 40-token system template", "qwen_2.5_vl_7b",
                          comfy_max_length=512),  # diffusers' transformer's text rotary table has 1024 rows
              TextEncoder("text_encoder_2", "CLIPTextModel", "CLIPTokenizer", 77, "pooled", "clip_l")),
    latent=LatentFormat(channels=16, scaling_factor=0.3611, downscale=8, patch=2),
    prediction="flow",
    pipeline="Kandinsky5T2IPipeline",
    config="kandinsky5",
    adapter="nodes.kandinsky5._adapter",
    cfg="separate",
    sigmas="scheduler",
    comfy_clip_types=("kandinsky5_image",),
    comfy_shift=3.0,
    vae_shift=False,
    notes=("the starting noise is drawn channels-last as the pipeline draws it (nodes.kandinsky5._adapter)",),
)

HIDREAM = Family(
    name="hidream",
    title="HiDream-I1 (Full, Dev, Fast)",
    denoiser="HiDreamImageTransformer2DModel",
    encoders=(TextEncoder("text_encoder", "CLIPTextModelWithProjection", "CLIPTokenizer", 128, "pooled (projected)",
                          "clip_l"),
              TextEncoder("text_encoder_2", "CLIPTextModelWithProjection", "CLIPTokenizer", 128,
                          "pooled (projected)", "clip_g"),
              TextEncoder("text_encoder_3", "T5EncoderModel", "T5TokenizerFast", 128, "last", "t5xxl",
                          comfy_max_length=128),  # ComfyUI keeps HiDream's T5 at its first 128 tokens too
              TextEncoder("text_encoder_4", "LlamaForCausalLM", "PreTrainedTokenizerFast", 128,
                          "every layer's states after the embeddings, stacked", "llama",
                          comfy_max_length=128)),  # diffusers' transformer joins them to T5's 128 tokens
    latent=FLUX_LATENT,
    prediction="flow",
    pipeline="HiDreamImagePipeline",
    config="hidream",
    adapter="nodes.hidream._adapter",
    cfg="batched",
    sigmas="scheduler",
    comfy_clip_types=("hidream",),
    comfy_shift=3.0,
    notes=("the pipeline rescales any requested size to its default area (1024 x 1024 with the real VAE); a graph "
           "makes the size its latent has",),
)

FAMILIES: tuple[Family, ...] = (FLUX2_DEV, FLUX2_KLEIN, FLUX_FILL, CHROMA, FLUX, SD3, Z_IMAGE, LUMINA2, QWEN_IMAGE,
                                 QWEN_IMAGE_LAYERED, QWEN_IMAGE_21, KREA2, FLUX3, LONGCAT_IMAGE, KANDINSKY5, HIDREAM,
                                 *VIDEO_FAMILIES, *AUDIO_FAMILIES)
