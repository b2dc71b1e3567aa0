"""FLUX.3 [klein]: per-mode then joint flow transformer blocks conditioned by stacked Qwen3-VL states,
reference pictures as their own tokens, layout prompts with boxes; its maths (`_adapter`) and nodes."""
