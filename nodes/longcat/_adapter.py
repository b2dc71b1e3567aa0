"""LongCat-Image's maths, written to match diffusers' LongCatImagePipeline and LongCatImageEditPipeline.

- `encode`: the prompt tokenized as the pipelines do (quoted text character by character, diffusers'
  `split_quotation`), cut at 512 tokens and padded to 512, between the template's head (its system
  turn and the user's turn opening) and tail; Qwen2.5-VL's last hidden states of the prompt's 512
  positions, padding included (the transformer takes no mask).
- `encode_edit` (Text Encode (Qwen-Image Edit) with LongCat's text encoder): the picture at the edit
  pipeline's size (about 1024x1024, sides rounded up to multiples of 16) is shown to Qwen2.5-VL at
  half that size inside the edit template, whose states are kept from <|vision_start|> on (the
  picture's tokens with the prompt's), and is encoded by the VAE (its posterior's mode) as the
  reference latent the transformer edits from.
- `Denoise`: the transformer on 2x2-cell tokens (Flux's packing), the timestep / 1000, the text at
  rotary positions (0, i, i), the picture's cells at (1, L + row, L + column) after L text tokens and
  reference k's at (2 + k, L + row, L + column) (diffusers' `prepare_pos_ids`, as both pipelines place
  them; ComfyUI's "index" method); the output is cut back to the picture's tokens.
- `mix_for`: the guidance each pipeline mixes: text-to-image renormalises the guided velocity per
  token to at most the positive one's norm (enable_cfg_renorm, its default), editing mixes plainly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._latent_numbers import require_whole_cells
from nodes._lazy import lazy
from nodes.families import require_rope_width
from nodes.qwen_image._adapter import pack, unpack

torch = lazy("torch")

#: The pipelines' templates (LongCatImagePipeline / LongCatImageEditPipeline.__init__, Apache-2.0).
HEAD = ("<|im_start|>system\nAs an image captioning expert, generate a descriptive text prompt based on an image "
        "content, suitable for input to a text-to-image model.<|im_end|>\n<|im_start|>user\n")
EDIT_HEAD = ("<|im_start|>system\nAs an image editing expert, first analyze the content and attributes of the input "
             "image(s). Then, based on the user's editing instructions, clearly and precisely determine how to modify "
             "the given image(s), ensuring that only the specified parts are altered and all other aspects remain "
             "consistent with the original(s).<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|>"
             "<|vision_end|>")
TAIL = "<|im_end|>\n<|im_start|>assistant\n"
#: The picture area the edit pipeline works at (calculate_dimensions' target).
EDIT_AREA = 1024 * 1024


def prompt_tokens(ctx: RunContext | None, tokenizer: Any, text: str, cut: int | None) -> list[int]:
    """The prompt's token ids as the pipelines make them: quoted spans one character at a time (so
    text to be drawn is spelled out), the rest as it comes, cut at `cut` with a warning (None: whole)."""
    from diffusers.pipelines.longcat_image.pipeline_longcat_image import split_quotation

    ids: list[int] = []
    for part, quoted in split_quotation(text):
        for piece in (part if quoted else [part]):
            ids.extend(tokenizer(piece, add_special_tokens=False)["input_ids"])
    if cut is not None and len(ids) > cut:
        from nodes.conditioning._language_prompts import warn_cut

        warn_cut(ctx, "LongCatImagePipeline", len(ids), cut, tokenizer.decode(ids[cut:]))
        ids = ids[:cut]
    return ids


def prompt_states(ctx: RunContext | None, clip: Any, text: str, pictures: Mapping[str, Any] | None = None,
                  long_prompt: str = "cut") -> Any:
    """[1, L, width]: Qwen2.5-VL's last hidden states of the prompt padded to the window (see module
    doc), read as `TextEncoder.cut` says; with `pictures` (the processor's pixel_values and
    image_grid_thw), the edit template's."""
    from nodes.conditioning._language_prompts import require_positions

    spec = clip.spec.encoders[0]
    tokenizer, encoder = clip.part(spec.part)
    window = spec.window(tokenizer)
    ids = prompt_tokens(ctx, tokenizer, text, spec.cut(tokenizer, long_prompt))
    body = tokenizer.pad({"input_ids": [ids]}, max_length=window,
                         padding="max_length", return_attention_mask=True, return_tensors="pt")
    head = HEAD
    if pictures is not None:
        slots = int(pictures["image_grid_thw"].prod()) // picture_processor(tokenizer).merge_size ** 2
        head = EDIT_HEAD.replace("<|image_pad|>", "<|image_pad|>" * slots)
    prefix = tokenizer(head, add_special_tokens=False)["input_ids"]
    suffix = tokenizer(TAIL, add_special_tokens=False)["input_ids"]
    start = prefix.index(tokenizer.convert_tokens_to_ids("<|vision_start|>")) if pictures is not None else len(prefix)
    kind = body.input_ids.dtype
    ids = torch.cat([torch.tensor(prefix, dtype=kind), body.input_ids[0], torch.tensor(suffix, dtype=kind)])
    ones = body.attention_mask.dtype
    mask = torch.cat([torch.ones(len(prefix), dtype=ones), body.attention_mask[0], torch.ones(len(suffix), dtype=ones)])
    require_positions(encoder, int(mask.sum()))
    extra = {k: v.to(clip.device) for k, v in (pictures or {}).items()}
    with torch.no_grad():
        states = encoder(input_ids=ids[None].to(clip.device), attention_mask=mask[None].to(clip.device),
                         output_hidden_states=True, **extra).hidden_states[-1]
    return states[:, start:-len(suffix)].to(dtype=encoder.dtype)


def encode(ctx: RunContext, clip: Any, text: str, texts: Any = None, long_prompt: str = "cut") -> Any:
    """One prompt's conditioning, as LongCatImagePipeline.encode_prompt makes it."""
    from nodes.values import CondEntry

    return CondEntry(embeds=prompt_states(ctx, clip, text, long_prompt=long_prompt), text=text)


def picture_processor(tokenizer: Any) -> Any:
    """Qwen2.5-VL's picture processor (the pipelines' text_processor.image_processor), with the
    settings NodeFlow ships for Qwen-Image's Qwen2.5-VL, the same model."""
    from nodes.qwen_image._edit import picture_processor_for

    return picture_processor_for(tokenizer).image_processor


def encode_edit(ctx: RunContext, clip: Any, vae: Any, prompt: str, pictures: list[Any]) -> Any:
    """An edit prompt's conditioning with its picture (the first of `pictures`; the edit pipeline
    takes one), as LongCatImageEditPipeline prepares both (see module doc)."""
    from diffusers.image_processor import VaeImageProcessor
    from diffusers.pipelines.longcat_image.pipeline_longcat_image_edit import calculate_dimensions

    from nodes._latent_numbers import stored_latents
    from nodes._tensors import image_to_pils
    from nodes.values import CondEntry

    if not pictures:
        return encode(ctx, clip, prompt)
    if len(pictures) > 1 or pictures[0].shape[0] > 1:
        raise NodeError("LongCat-Image Edit edits from one picture", "image")
    picture = image_to_pils(pictures[0])[0].convert("RGB")
    width, height = calculate_dimensions(EDIT_AREA, picture.width * 1.0 / picture.height)
    sizer = VaeImageProcessor(vae_scale_factor=vae.scale_factor * 2)
    picture = sizer.resize(picture, height, width)
    shown = sizer.resize(picture, height // 2, width // 2)
    tokenizer = clip.part(clip.spec.encoders[0].part)[0]
    seen = picture_processor(tokenizer)(images=shown, return_tensors="pt")
    states = prompt_states(ctx, clip, prompt, {k: seen[k] for k in ("pixel_values", "image_grid_thw")})
    with torch.no_grad():
        pixels = sizer.preprocess(picture, height, width).to(device=vae.device, dtype=vae.dtype)
        mean, _ = vae.encode_dist(pixels)
    reference = {"samples": stored_latents(mean, vae.numbers())}
    return CondEntry(embeds=states, text=prompt, references=(reference,))


class Denoise:
    """The transformer's velocity for [B, C, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        from diffusers.pipelines.longcat_image.pipeline_longcat_image import prepare_pos_ids

        h, w = size
        require_whole_cells(h, w, model.vae_scale_factor, "LongCat-Image")
        self.model, self.size = model, size
        embeds = entry.embeds.to(model.device)
        length = embeds.shape[1]
        self.embeds = embeds.repeat(batch, 1, 1)
        self.text_ids = prepare_pos_ids(modality_id=0, type="text", start=(0, 0), num_token=length).to(model.device)
        ids = [prepare_pos_ids(modality_id=1, type="image", start=(length, length), height=h // 2, width=w // 2)]
        references = []
        for index, latent in enumerate(entry.references):
            rh, rw = latent.shape[-2:]
            require_whole_cells(rh, rw, model.vae_scale_factor, "LongCat-Image")
            ids.append(prepare_pos_ids(modality_id=2 + index, type="image", start=(length, length), height=rh // 2,
                                       width=rw // 2))
            references.append(pack(latent.to(device=model.device, dtype=model.dtype)).repeat(batch, 1, 1))
        self.references = torch.cat(references, dim=1) if references else None
        self.image_ids = torch.cat(ids, dim=0).to(model.device)

    def __call__(self, latents: Any, t: Any) -> Any:
        h, w = self.size
        tokens = pack(latents)
        count = tokens.shape[1]
        if self.references is not None:
            tokens = torch.cat([tokens, self.references], dim=1)
        timestep = t.expand(tokens.shape[0]).to(latents.dtype)
        out = self.model.unet(hidden_states=tokens, timestep=timestep / 1000, encoder_hidden_states=self.embeds,
                              txt_ids=self.text_ids, img_ids=self.image_ids, return_dict=False)[0]
        return unpack(out[:, :count], h, w)


def renormalised(cond: Any, uncond: Any, cfg: float) -> Any:
    """LongCatImagePipeline's guidance with enable_cfg_renorm: the guided velocity of each packed token
    scaled by the positive one's norm over its own (+1e-8), at most 1 (cfg_renorm_min 0)."""
    h, w = cond.shape[-2:]
    positive, negative = pack(cond), pack(uncond)
    guided = negative + cfg * (positive - negative)
    scale = (torch.norm(positive, dim=-1, keepdim=True) / (torch.norm(guided, dim=-1, keepdim=True) + 1e-8))
    return unpack(guided * scale.clamp(min=0.0, max=1.0), h, w)


def plain(cond: Any, uncond: Any, cfg: float) -> Any:
    """LongCatImageEditPipeline's guidance: uncond + cfg * (cond - uncond), not renormalised."""
    return uncond + cfg * (cond - uncond)


def mix_for(entries: Any) -> Callable[[Any, Any, float], Any]:
    """The guidance mix of the pipeline these positive prompts belong to: the edit pipeline's when
    they carry a reference picture, text-to-image's renormalised one otherwise."""
    return plain if any(e.references for e in entries) else renormalised


def _to_diffusers(state: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """BFL's Flux key names (ComfyUI's LongCat-Image file) -> LongCatImageTransformer2DModel's: fused
    q/k/v split by the config's width, the final modulation's (shift, scale) halves swapped to
    diffusers' (scale, shift), as diffusers' Flux converter does for the published Flux sizes."""
    inner = config["num_attention_heads"] * config["attention_head_dim"]
    renames = {"time_in.in_layer.": "time_embed.timestep_embedder.linear_1.",
               "time_in.out_layer.": "time_embed.timestep_embedder.linear_2.", "txt_in.": "context_embedder.",
               "img_in.": "x_embedder.", "final_layer.linear.": "proj_out."}
    double = {"img_mod.lin.": "norm1.linear.", "txt_mod.lin.": "norm1_context.linear.",
              "img_attn.norm.query_norm.scale": "attn.norm_q.weight",
              "img_attn.norm.key_norm.scale": "attn.norm_k.weight",
              "txt_attn.norm.query_norm.scale": "attn.norm_added_q.weight",
              "txt_attn.norm.key_norm.scale": "attn.norm_added_k.weight", "img_mlp.0.": "ff.net.0.proj.",
              "img_mlp.2.": "ff.net.2.", "txt_mlp.0.": "ff_context.net.0.proj.", "txt_mlp.2.": "ff_context.net.2.",
              "img_attn.proj.": "attn.to_out.0.", "txt_attn.proj.": "attn.to_add_out."}
    single = {"modulation.lin.": "norm.linear.", "norm.query_norm.scale": "attn.norm_q.weight",
              "norm.key_norm.scale": "attn.norm_k.weight", "linear2.": "proj_out."}
    out: dict[str, Any] = {}
    for key, value in state.items():
        kind, _, rest = key.partition(".")
        if kind in ("double_blocks", "single_blocks"):
            index, _, name = rest.partition(".")
            block = ("transformer_blocks." if kind == "double_blocks" else "single_transformer_blocks.") + index + "."
            fused = {"img_attn.qkv.": ("attn.to_q.", "attn.to_k.", "attn.to_v."),
                     "txt_attn.qkv.": ("attn.add_q_proj.", "attn.add_k_proj.", "attn.add_v_proj."),
                     "linear1.": ("attn.to_q.", "attn.to_k.", "attn.to_v.", "proj_mlp.")}
            source = next((f for f in fused if name.startswith(f)), None)
            if source is not None and (kind == "single_blocks") == (source == "linear1."):
                sizes = [inner] * 3 + ([value.shape[0] - 3 * inner] if source == "linear1." else [])
                for target, part in zip(fused[source], torch.split(value, sizes, dim=0), strict=True):
                    out[block + target + name[len(source):]] = part
                continue
            table = double if kind == "double_blocks" else single
            found = next((k for k in table if name.startswith(k)), None)
            if found is None:
                raise KeyError(f"{key} is not a weight of a Flux-shaped block")
            out[block + table[found] + name[len(found):]] = value
        elif key.startswith("final_layer.adaLN_modulation.1."):
            shift, scale = value.chunk(2, dim=0)
            out["norm_out.linear." + key.rsplit(".", 1)[1]] = torch.cat([scale, shift], dim=0)
        else:
            found = next((k for k in renames if key.startswith(k)), None)
            if found is None:
                raise KeyError(f"{key} is not a LongCat-Image weight")
            out[renames[found] + key[len(found):]] = value
    return out


def denoiser_state(state: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """A lone transformer's weights in diffusers' names: ComfyUI's file (BFL's names, see
    `_to_diffusers`) converted, diffusers' own as they are. diffusers has no single-file converter
    for this class, and its Flux one assumes Flux's 3072-wide blocks and pooled text input."""
    return _to_diffusers(state, config) if "img_in.weight" in state else state


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """LongCatImageTransformer2DModel's config for weights of these (bare) shapes, in BFL's or
    diffusers' key names: the Flux-shaped sizes (`nodes.flux._adapter.read_blocks`), rope axes from
    `base`, the shipped LongCat-Image config."""
    from nodes.flux._adapter import read_blocks

    config = dict(base)
    read_blocks(shapes, config)
    config["pooled_projection_dim"] = config["joint_attention_dim"]  # recorded, unused by the model
    require_rope_width(config["attention_head_dim"], config["axes_dims_rope"], "LongCat-Image")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: the shipped one (dynamic shift)."""
    return dict(base)
