"""Krea 2: a single-stream flow transformer conditioned by a stack of Qwen3-VL's hidden states."""
