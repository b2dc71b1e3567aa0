"""Video: make a VIDEO from pictures (and sound), take one apart, load one, save one as an mp4."""
