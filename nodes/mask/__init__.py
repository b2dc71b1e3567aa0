"""Masks (MASK is [B, H, W] in [0, 1], 1 = repaint): from pictures and colours, thresholds, growing,
feathering, combining."""
