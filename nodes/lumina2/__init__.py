"""Lumina 2 (Lumina-Image 2.0, Neta Lumina, NetaYume): a flow transformer conditioned by Gemma 2."""
