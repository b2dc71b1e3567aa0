"""Fixtures for the LTX-2 tests: a tiny random LTX2Pipeline folder and its audio parts as an LTX-2 file."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_ltx2(tmp_path_factory, torch_threads):
    """(pipeline folder, .safetensors holding the same audio VAE and vocoder under LTX-2's names)."""
    from tiny_ltx2 import build_ltx2, write_audio_file

    root = tmp_path_factory.mktemp("tiny_ltx2")
    folder = build_ltx2(root / "pipeline")
    audio, _, _ = write_audio_file(root / "ltx-2-audio.safetensors")
    return folder, audio


@pytest.fixture(scope="session")
def tiny_ltx23(tmp_path_factory, torch_threads):
    """(LTX-2.3-shaped pipeline folder, the audio parts' file): per-stream text projections, gated attention."""
    from tiny_ltx2 import build_ltx2, write_audio_file

    root = tmp_path_factory.mktemp("tiny_ltx23")
    folder = build_ltx2(root / "pipeline", version="2.3")
    audio, _, _ = write_audio_file(root / "ltx-2-audio.safetensors")
    return folder, audio
