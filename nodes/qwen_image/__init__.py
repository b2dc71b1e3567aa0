"""Qwen-Image: a dual-stream flow transformer conditioned by Qwen2.5-VL's states."""
