"""Krea 2's reference pictures (its style reference), which Krea2Pipeline lacks, held to the model's maths
on diffusers' Krea2Transformer2DModel at tolerance 0 (tiny random weights, CPU):

- the references follow the picture's tokens, the k-th at rotary (k, row, column), and only the picture's
  tokens are read back: by "index" the transformer's own call on the joint sequence, and by
  "index_timestep_zero" the same at t = 0;
- by "index_timestep_zero" at any t the blocks modulate the references as at t = 0 and the text and the
  picture at t (the blocks composed span by span, as Krea 2's reference training code writes them);
- Text Encode (Qwen-Image Edit Plus) with a krea2 text encoder reads as ComfyUI's node does: the Edit
  Plus template with a picture slot, Qwen3-VL seeing the picture (with its picture positions), the 12
  taps stacked after the template's head.
"""

from __future__ import annotations

import pytest
import torch

from nodeflow.core import NodeError, RunContext

TEXT, PICTURE = 8, (4, 4)  # a 4x4-cell picture: 4 tokens


@pytest.fixture(scope="module")
def loaded(tiny_krea2):
    from nodes.models._checkpoint import load_checkpoint

    model, clip, vae = load_checkpoint(tiny_krea2, "cpu", torch.float32)
    return model, clip, vae


@pytest.fixture(scope="module")
def entry(loaded):
    from nodes.conditioning._text_encode import encode_text

    torch.manual_seed(3)
    references = (torch.randn(1, 16, 4, 6), torch.randn(1, 16, 6, 4))
    return encode_text(RunContext(), loaded[1], "a red circle").with_(references=references)


def _joint(model, entry, latents):
    """(tokens, rotary positions, text mask) of the picture followed by its references, built here."""
    from diffusers import Krea2Pipeline

    from nodes.qwen_image._adapter import pack

    text = entry.embeds.shape[1]
    ids = [Krea2Pipeline.prepare_position_ids(text, 2, 2, "cpu")]
    for k, latent in enumerate(entry.references, start=1):
        grid = Krea2Pipeline.prepare_position_ids(0, latent.shape[-2] // 2, latent.shape[-1] // 2, "cpu")
        grid[:, 0] = k
        ids.append(grid)
    tokens = torch.cat([pack(latents)] + [pack(r) for r in entry.references], dim=1)
    return tokens, torch.cat(ids), entry.attention_mask.bool()


def _stack(model, entry):
    config = model.unet.config
    return entry.embeds.unflatten(-1, (config.num_text_layers, config.text_hidden_dim))


@pytest.mark.parametrize("method,t", [("index", 700.0), ("index_timestep_zero", 0.0)])
def test_references_follow_the_picture_by_index(loaded, entry, method, t):
    from nodes.krea2._adapter import Denoise
    from nodes.qwen_image._adapter import unpack

    model = loaded[0]
    torch.manual_seed(4)
    latents = torch.randn(1, 16, *PICTURE)
    with torch.no_grad():
        ours = Denoise(model, entry.with_(reference_method=method), 1, PICTURE)(latents, torch.tensor(t))
        tokens, positions, mask = _joint(model, entry, latents)
        theirs = model.unet(hidden_states=tokens, encoder_hidden_states=_stack(model, entry),
                            timestep=torch.tensor([t / 1000]), position_ids=positions, encoder_attention_mask=mask,
                            return_dict=False)[0]
    torch.testing.assert_close(ours, unpack(theirs[:, :4], *PICTURE), rtol=0, atol=0)


def _spans(model, entry, latents, t):
    """Krea 2's forward with the references (every token from the picture's end on) modulated at t = 0,
    span by span."""
    from torch.nn.functional import gelu

    unet = model.unet
    tokens, positions, mask = _joint(model, entry, latents)
    text = entry.embeds.shape[1]
    split = text + 4
    temb = unet.time_embed(torch.tensor([t / 1000]), dtype=tokens.dtype)
    moving, still = (unet.time_mod_proj(gelu(e, approximate="tanh"))
                     for e in (temb, unet.time_embed(torch.zeros(1), dtype=tokens.dtype)))
    joint_mask = torch.cat([mask, mask.new_ones(1, tokens.shape[1])], dim=1)[:, None, None, :]
    words = unet.txt_in(unet.text_fusion(_stack(model, entry), attention_mask=mask[:, None, None, :]))
    x = torch.cat([words, unet.img_in(tokens)], dim=1)
    rotary = unet.rotary_emb(positions)
    for block in unet.transformer_blocks:
        a, b = ((m.unflatten(-1, (6, -1)) + block.scale_shift_table).unbind(-2) for m in (moving, still))

        def mod(h, scale, shift, a=a, b=b):
            return torch.cat([(1 + a[scale]) * h[:, :split] + a[shift], (1 + b[scale]) * h[:, split:] + b[shift]], 1)

        def gate(h, g, a=a, b=b):
            return torch.cat([a[g] * h[:, :split], b[g] * h[:, split:]], dim=1)

        x = x + gate(block.attn(mod(block.norm1(x), 0, 1), attention_mask=joint_mask, image_rotary_emb=rotary), 2)
        x = x + gate(block.ff(mod(block.norm2(x), 3, 4)), 5)
    return unet.final_layer(x[:, text:split], temb)


def test_index_timestep_zero_holds_the_references_still(loaded, entry):
    from nodes.krea2._adapter import Denoise
    from nodes.qwen_image._adapter import unpack

    model = loaded[0]
    torch.manual_seed(5)
    latents = torch.randn(1, 16, *PICTURE)
    with torch.no_grad():
        ours = Denoise(model, entry, 1, PICTURE)(latents, torch.tensor(700.0))  # the family's default method
        by_index = Denoise(model, entry.with_(reference_method="index"), 1, PICTURE)(latents, torch.tensor(700.0))
        theirs = _spans(model, entry, latents, 700.0)
    torch.testing.assert_close(ours, unpack(theirs, *PICTURE), rtol=0, atol=0)
    assert (ours - by_index).abs().max() > 1e-4  # the references' own time mattered


def test_a_reference_of_odd_cells_is_one_line(loaded, entry):
    from nodes.krea2._adapter import Denoise

    with pytest.raises(NodeError, match="reference picture 1 is 5x4 latent cells") as caught:
        Denoise(loaded[0], entry.with_(references=(torch.zeros(1, 16, 4, 5),)), 1, PICTURE)
    assert caught.value.field == "positive" and "\n" not in str(caught.value)


def test_the_style_reference_prompt_reads_the_picture_as_comfyui_does(loaded, source_png):
    """Krea 2's reading of an Edit Plus prompt, against transformers' Qwen3-VL run here (the references'
    sizing and normalisation are Qwen-Image Edit Plus's, held to its pipeline in test_qwen_image_parity;
    the style-reference template runs the whole node)."""
    from PIL import Image

    from nodes.conditioning._language_prompts import QWEN_IMAGE_EDIT_PLUS
    from nodes.conditioning._language_prompts import encode as encode_language
    from nodes.conditioning._pictures import processor
    from nodes.krea2._adapter import TAPS, edit_recipe

    tokenizer, encoder = loaded[1].part(loaded[1].spec.encoders[0].part)
    picture = Image.open(source_png[0]).convert("RGB").resize((64, 64))
    reader = processor("qwen3_vl", tokenizer)
    ours, mask = encode_language(edit_recipe(tokenizer), tokenizer, encoder, "in this style", "cpu", [picture], reader)
    text = QWEN_IMAGE_EDIT_PLUS.template.format("Picture 1: <|vision_start|><|image_pad|><|vision_end|>in this style")
    inputs = reader(text=[text], images=[picture], return_tensors="pt")
    with torch.no_grad():
        states = encoder(**{k: inputs[k] for k in ("input_ids", "attention_mask", "pixel_values", "image_grid_thw",
                                                   "mm_token_type_ids")}, output_hidden_states=True).hidden_states
    head = len(tokenizer(QWEN_IMAGE_EDIT_PLUS.template.split("{}")[0]).input_ids)
    assert tokenizer.decode(inputs["input_ids"][0, head:]).startswith("Picture 1: <|vision_start|>")
    torch.testing.assert_close(ours, torch.cat([states[i] for i in TAPS], dim=-1)[:, head:], rtol=0, atol=0)
    assert bool(mask.all())
