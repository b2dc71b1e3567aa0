"""`nodeflow serve` with ComfyUI's video and sound nodes: /history lists SaveVideo's mp4 as ComfyUI
does (under "images", the output marked "animated") and SaveAudioAdvanced's file under "audio", /view
serves each with its media type, and video and sound files uploaded as ComfyUI's frontend uploads
them are kept and listed by Load Video and Load Audio with their upload buttons."""

from __future__ import annotations

import io
import math

import av
import numpy as np

from tests.serve.conftest import Server, multipart


def _flac(server: Server) -> None:
    """Half a second of a 440 Hz tone in the server's input folder."""
    server.input_dir.mkdir(parents=True, exist_ok=True)
    (server.input_dir / "tone.flac").write_bytes(_flac_bytes())


def _flac_bytes() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="flac") as container:
        stream = container.add_stream("flac", rate=8000, layout="mono")
        wave = (0.3 * np.sin(2 * math.pi * 440 * np.arange(4000) / 8000)).astype(np.float32)[None]
        block = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
        block.sample_rate, block.pts = 8000, 0
        container.mux(stream.encode(block))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def test_saved_video_and_sound_are_listed_and_served_as_comfyui_does(server):
    _flac(server)
    prompt = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 32, "height": 24, "batch_size": 4, "color": 0xFF0000}},
        "2": {"class_type": "LoadAudio", "inputs": {"audio": "tone.flac"}},
        "3": {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "audio": ["2", 0], "fps": 8}},
        "4": {"class_type": "SaveVideo", "inputs": {"video": ["3", 0], "filename_prefix": "video/ComfyUI",
                                                     "format": "auto", "codec": "auto"}},
        "5": {"class_type": "SaveAudioAdvanced", "inputs": {"audio": ["2", 0], "filename_prefix": "audio/ComfyUI",
                                                             "format": "flac"}},
    }
    answer = server.json("/prompt", {"prompt": prompt})
    history = server.wait_history(answer["prompt_id"])
    assert history["status"]["status_str"] == "success", history["status"]
    video = history["outputs"]["4"]
    assert video["animated"] == [True] and len(video["images"]) == 1
    ref = video["images"][0]
    assert (ref["subfolder"], ref["type"]) == ("video", "output") and ref["filename"].endswith(".mp4")
    status, body, headers = server.request(f"/view?filename={ref['filename']}&subfolder=video&type=output")
    assert status == 200 and headers["Content-Type"] == "video/mp4"
    assert body == (server.out / "video" / ref["filename"]).read_bytes()
    with av.open(str(server.out / "video" / ref["filename"])) as container:
        assert container.streams.video[0].frames == 4 and container.streams.audio[0].sample_rate == 8000
    (sound,) = history["outputs"]["5"]["audio"]
    assert (sound["subfolder"], sound["type"]) == ("audio", "output") and sound["filename"].endswith(".flac")
    status, _, headers = server.request(f"/view?filename={sound['filename']}&subfolder=audio&type=output")
    assert status == 200 and headers["Content-Type"] == "audio/flac"


def _upload(server: Server, data: bytes, filename: str) -> tuple[int, bytes]:
    body, content_type = multipart({}, {"image": (filename, data)})
    status, answer, _ = server.request("/upload/image", body, {"Content-Type": content_type})
    return status, answer


def test_uploaded_sound_and_video_files_are_kept_and_listed_by_their_load_nodes(server):
    assert _upload(server, _flac_bytes(), "take.flac")[0] == 200
    assert (server.input_dir / "take.flac").read_bytes() == _flac_bytes()
    assert _upload(server, b"not a video at all", "fake.mp4")[0] == 400
    assert not (server.input_dir / "fake.mp4").exists()
    audio = server.json("/object_info/LoadAudio")["LoadAudio"]["input"]["required"]["audio"]
    assert "take.flac" in audio[0] and audio[1]["audio_upload"] is True
    video = server.json("/object_info/LoadVideo")["LoadVideo"]["input"]["required"]["file"]
    assert "take.flac" not in video[0] and video[1]["video_upload"] is True
    assert "take.flac" not in server.json("/object_info/LoadImage")["LoadImage"]["input"]["required"]["image"][0]
