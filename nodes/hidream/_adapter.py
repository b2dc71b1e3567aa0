"""HiDream-I1's maths, written to match diffusers' HiDreamImagePipeline.

- `encode`: CLIP-L's and CLIP-G's projected pooled vectors (each prompt padded to 128 tokens: the
  pipeline's min(max_sequence_length, 218)), concatenated; T5's last states of 128 tokens (with
  their mask given to T5); Llama 3.1's hidden states of every layer after the embeddings, stacked
  ([layers, 1, 128, width]; the tokenizer pads with its end-of-text token, as the pipeline sets it).
  A prompt's conditioning keeps T5's states as `embeds`, the pooled pair as `pooled`, Llama's stack
  as `extra`.
- `Denoise`: the transformer on [B, 16, h, w] latents (it patches them itself) with the scheduler's
  timestep as it is; its output is the negated velocity, turned back here. The pipeline's guidance
  runs both prompts in one call, negative first (`batched`), Llama's stacks joined on their batch axis.
- HiDream-E1 (the same transformer): a prompt that carries an edit picture (`concat`, Instruct Pix To Pix
  Conditioning's) has its latents joined on the right of the sampled latents, the whole run as one picture
  of double width (all its tokens, no padding: ComfyUI's HiDream model) and the output cut back to the left
  half, as HiDream-E1's editing pipeline and ComfyUI do; a prompt without one runs on the latents alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodeflow.core import NodeError, RunContext
from nodes._latent_numbers import require_whole_cells
from nodes._lazy import lazy
from nodes.families import require_rope_width

torch = lazy("torch")

#: Tokens each text encoder reads (the pipeline's max_sequence_length default; CLIP's cap is 218).
TOKENS = 128


def encode(ctx: RunContext, clip: Any, text: str, texts: Mapping[str, str] | None = None,
           long_prompt: str = "cut") -> Any:
    """One prompt's conditioning, as HiDreamImagePipeline.encode_prompt makes it (see module doc);
    `texts` gives an encoder its own text by its ComfyUI name, as the pipeline's prompt_2..4 do. The
    CLIPs read their window either way; T5 and Llama read as `TextEncoder.cut` says."""
    from nodes.flux._adapter import tokens
    from nodes.values import CondEntry

    texts = texts or {}
    clip_l, clip_g, t5, llama = clip.spec.encoders
    pooled = []
    with torch.no_grad():
        for spec in (clip_l, clip_g):
            tokenizer, model = clip.part(spec.part)
            window = min(TOKENS, 218)
            ids = tokens(ctx, tokenizer, texts.get(spec.comfy_name, text), window, window, spec.comfy_name).input_ids
            pooled.append(model(ids.to(clip.device), output_hidden_states=True)[0].to(dtype=model.dtype))
        tokenizer, model = clip.part(t5.part)
        inputs = tokens(ctx, tokenizer, texts.get(t5.comfy_name, text), t5.window(tokenizer),
                        t5.cut(tokenizer, long_prompt), t5.comfy_name)
        states = model(inputs.input_ids.to(clip.device), attention_mask=inputs.attention_mask.to(clip.device))[0]
        states = states.to(dtype=model.dtype)
        tokenizer, model = clip.part(llama.part)
        tokenizer.pad_token = tokenizer.eos_token  # as the pipeline sets it
        inputs = tokens(ctx, tokenizer, texts.get(llama.comfy_name, text), llama.window(tokenizer),
                        llama.cut(tokenizer, long_prompt), llama.comfy_name)
        out = model(inputs.input_ids.to(clip.device), attention_mask=inputs.attention_mask.to(clip.device),
                    output_hidden_states=True, output_attentions=True)
        stack = torch.stack(out.hidden_states[1:], dim=0)
    return CondEntry(embeds=states, pooled=torch.cat(pooled, dim=-1), extra=stack, text=text)


class Denoise:
    """The velocity for [B, C, h, w] latents under one prompt (see module doc)."""

    def __init__(self, model: Any, entry: Any, batch: int, size: tuple[int, int]) -> None:
        require_whole_cells(*size, model.vae_scale_factor, "HiDream")
        self.model = model
        device = model.device
        self.t5 = entry.embeds.to(device).repeat(batch, 1, 1)
        self.llama = entry.extra.to(device).repeat(1, batch, 1, 1)
        self.pooled = entry.pooled.to(device).repeat(batch, 1)
        self.picture = None
        if entry.concat is not None:
            picture = entry.concat
            if tuple(picture.shape[-2:]) != tuple(size):
                raise NodeError(f"the edit picture's latents are {picture.shape[-1]}x{picture.shape[-2]} cells, the "
                                f"latent {size[1]}x{size[0]}: sample the latent made from that picture",
                                "latent_image")
            self.picture = picture.to(device=device, dtype=model.dtype).repeat(batch // picture.shape[0] or 1, 1, 1, 1)

    def __call__(self, latents: Any, t: Any) -> Any:
        return _velocity(self.model, latents, t, self.t5, self.llama, self.pooled, self.picture)

    @classmethod
    def batched(cls, model: Any, negative: Any, positive: Any, batch: int, size: tuple[int, int]) -> Any:
        """One call for both prompts, negative first, as the pipeline's guidance runs; returns (negative
        output, positive output). Two calls when one prompt carries an edit picture and the other none
        (their inputs differ in width)."""
        neg, pos = cls(model, negative, batch, size), cls(model, positive, batch, size)

        def call(latents: Any, t: Any) -> tuple[Any, Any]:
            if (neg.picture is None) != (pos.picture is None):
                return neg(latents, t), pos(latents, t)
            pictures = None if pos.picture is None else torch.cat([neg.picture, pos.picture])
            out = _velocity(model, torch.cat([latents] * 2), t, torch.cat([neg.t5, pos.t5]),
                            torch.cat([neg.llama, pos.llama], dim=1), torch.cat([neg.pooled, pos.pooled]), pictures)
            uncond, cond = out.chunk(2)
            return uncond, cond

        return call


def _velocity(model: Any, latents: Any, t: Any, t5: Any, llama: Any, pooled: Any, picture: Any = None) -> Any:
    """The transformer's velocity; with an edit `picture` (HiDream-E1), its latents joined on the right of the
    latents' and the output cut back to them (see module doc)."""
    width, shape = latents.shape[-1], {}
    if picture is not None:
        latents, shape = _tokens(torch.cat([latents, picture.to(latents.dtype)], dim=-1), model.unet.config.patch_size)
    out = model.unet(hidden_states=latents, timesteps=t.expand(latents.shape[0]), encoder_hidden_states_t5=t5,
                     encoder_hidden_states_llama3=llama, pooled_embeds=pooled, return_dict=False, **shape)[0]
    return -out[..., :width]


def _tokens(latents: Any, patch: int) -> tuple[Any, dict[str, Any]]:
    """Latents as the transformer's patch tokens, each cell's position and a mask of ones: all the tokens
    of a picture of any shape, none added (the transformer pads a non-square picture to its max_seq tokens,
    with keys zeroed but still attended, which an edit's double width can exceed)."""
    b, c, h, w = latents.shape
    rows, cols = h // patch, w // patch
    tokens = latents.reshape(b, c, rows, patch, cols, patch).permute(0, 2, 4, 3, 5, 1)
    ids = torch.zeros(rows, cols, 3, device=latents.device)
    ids[..., 1] += torch.arange(rows, device=latents.device)[:, None]
    ids[..., 2] += torch.arange(cols, device=latents.device)[None, :]
    sizes = torch.tensor([[rows, cols]] * b, dtype=torch.int64, device=latents.device)
    return tokens.reshape(b, rows * cols, -1), {
        "img_ids": ids.reshape(1, rows * cols, 3).repeat(b, 1, 1), "img_sizes": sizes,
        "hidden_states_masks": torch.ones(b, rows * cols, dtype=latents.dtype, device=latents.device)}


def _count(shapes: Mapping[str, tuple[int, ...]], prefix: str) -> int:
    return len({k[len(prefix):].split(".", 1)[0] for k in shapes if k.startswith(prefix)})


def denoiser_config(shapes: Mapping[str, tuple[int, ...]], base: dict[str, Any]) -> dict[str, Any]:
    """HiDreamImageTransformer2DModel's config for weights of these (bare) shapes (ComfyUI's files keep
    diffusers' names): widths, blocks, experts and the text widths read off the tensors; the head width, rope axes,
    the experts each token uses and the Llama layer each block reads from `base`, the shipped HiDream-I1
    config (a file with fewer blocks reads the first of its double and single blocks' layers)."""
    config = dict(base)
    inner, features = shapes["x_embedder.proj.weight"]
    config["num_layers"] = _count(shapes, "double_stream_blocks.")
    config["num_single_layers"] = _count(shapes, "single_stream_blocks.")
    head_dim = int(base["attention_head_dim"])  # its norms span all heads: the width is the shipped one
    config["num_attention_heads"] = inner // head_dim
    config["in_channels"] = features // config["patch_size"] ** 2
    config["text_emb_dim"] = shapes["p_embedder.pooled_embedder.linear_1.weight"][1]
    last = config["num_layers"] + config["num_single_layers"]
    config["caption_channels"] = [shapes[f"caption_projection.{last}.linear.weight"][1],
                                  shapes["caption_projection.0.linear.weight"][1]]
    config["num_routed_experts"] = _count(shapes, "double_stream_blocks.0.block.ff_i.experts.")
    layers, doubles = list(base["llama_layers"]), int(base["num_layers"])
    config["llama_layers"] = layers[:doubles][:config["num_layers"]] + layers[doubles:][:config["num_single_layers"]]
    require_rope_width(head_dim, config["axes_dims_rope"], "HiDream")
    return config


def scheduler_config(denoiser: Any, base: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's scheduler for a lone transformer: HiDream-I1 Dev's (a constant shift of 6); a
    file does not say which of Full, Dev and Fast it is."""
    return dict(base)
