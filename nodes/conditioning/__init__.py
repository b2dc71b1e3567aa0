"""Prompts to CONDITIONING and what shapes it: text encoding with weights and embeddings, clip skip,
areas, masks, time ranges, ControlNets."""
