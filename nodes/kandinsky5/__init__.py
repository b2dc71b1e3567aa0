"""Kandinsky 5 (image): a flow transformer conditioned by Qwen2.5-VL's states and CLIP-L's pooled vector."""
