"""MiniMax H3's fixed numbers (the released model's and MiniMaxH3ModularPipeline's), said once."""

from __future__ import annotations

#: Which Qwen3-VL hidden state conditions the transformer (MiniMaxH3ModularPipeline.text_encoder_layer).
TEXT_LAYER = 50
#: Modality tags of the packed rows (they index the transformer's AdaLN table).
VIDEO_TAG, TEXT_TAG, AUDIO_TAG = 0, 1, 2
#: The t a keyframe's rows are held at, and the seed its VAE posterior is sampled with.
KEYFRAME_T = 0.999
KEYFRAME_SEED = 42
#: The released schedules' shifts: video, audio.
SHIFTS = (12.0, 3.0)
FPS = 24
AUDIO_LATENTS_PER_SECOND = 40
AUDIO_CHANNELS = 2
#: Pixel frames the video VAE takes per chunk, and latent frames a chunk keeps (17 n + 5 -> 5 n + 2).
FRAMES_PER_CHUNK, LATENTS_PER_CHUNK = 17, 5
