"""NodeFlow: build diffusion image pipelines as node graphs, run them in a native app or headless."""

__version__ = "0.1.0"
