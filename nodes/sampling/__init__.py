"""Sampling: the all-in-one Sampler and its parts (noise, sampler, sigmas, guider), in the two
conventions (diffusers' pipelines, ComfyUI's k-diffusion behaviour), with previews."""
