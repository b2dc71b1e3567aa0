"""Stable Audio 3 (text to stereo sound): its maths (`_adapter`) and its SAME autoencoder (`_vae`)."""
