"""Z-Image (Turbo and base): a single-stream flow transformer conditioned by Qwen3's states."""
