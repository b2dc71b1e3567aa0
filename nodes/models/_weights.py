"""How many weights each component of a checkpoint holds, read from file headers (no torch).

A .safetensors file starts with a JSON header listing every tensor's dtype and shape, so the
size of a UNet, text encoder or VAE is known before anything is loaded: the memory plan uses it
to explain a run before it starts, and the loader to make room before it reads the file.
Single files name their parts by prefix (the original Stable Diffusion layout); diffusers folders
keep one component per subfolder. Pickle files are counted by their file size.
"""

from __future__ import annotations

import functools
import json
import struct
from pathlib import Path
from stat import S_ISREG

#: Single-file key prefixes -> component.
PREFIXES = (
    ("model.diffusion_model.", "unet"),
    ("first_stage_model.", "vae"),
    ("cond_stage_model.", "text_encoder"),
    ("conditioner.embedders.0.", "text_encoder"),
    ("conditioner.embedders.1.", "text_encoder_2"),
    # all-in-one files of the flow families (Flux, SD3.5: ComfyUI's and Stability's layout)
    ("text_encoders.clip_l.", "text_encoder"),
    ("text_encoders.clip_g.", "text_encoder_2"),
    ("text_encoders.t5xxl.", "text_encoder_3"),
)
COMPONENTS = ("unet", "text_encoder", "text_encoder_2", "text_encoder_3", "vae")
#: A diffusers folder's subfolder for each component: the denoiser is a UNet or a transformer (Flux,
#: SD3, ...), counted as "unet" (the model output) either way.
FOLDERS = {"unet": ("unet", "transformer")}
#: The weight whose shape tells a component's full-resolution channel count: (key suffix, axis).
WIDTH_KEYS = {"unet": (("conv_in.weight", "input_blocks.0.0.weight"), 0),
              "vae": (("decoder.conv_out.weight",), 1)}
#: Tensors diffusers never loads into the modules (EMA copies, the training-time schedule).
_IGNORED = ("model_ema.", "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_", "log_one_minus",
            "posterior_")


def safetensors_header(path: Path) -> dict[str, dict]:
    """The tensor entries of a .safetensors header ({} if the file is not one). Callers must not
    change it: it is shared with later calls for the same unchanged file."""
    try:
        stat = path.stat()
    except OSError:
        return {}
    if not S_ISREG(stat.st_mode):
        return {}  # a FIFO or device named by a hostile workflow would block or never end
    if stat.st_size > CACHED_FILE_BYTES_MIN:
        return _read_header(str(path), stat.st_mtime_ns, stat.st_size)
    return _read_header.__wrapped__(str(path), stat.st_mtime_ns, stat.st_size)


#: Files at least this large (model weights) have their header kept after the first read; smaller
#: ones (a hostile file that is all header, say) are read each time and never held.
CACHED_FILE_BYTES_MIN = 64 * 1024 * 1024
_MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit


@functools.lru_cache(maxsize=64)
def _read_header(path: str, _mtime_ns: int, _size: int) -> dict[str, dict]:
    """One read per file version: the editor's estimate asks again after every edit, and a
    workflow's loaders, the plan and the loader itself ask about the same files."""
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > _MAX_HEADER_BYTES:
                return {}
            header = json.loads(handle.read(length))
    except (OSError, struct.error, ValueError):
        return {}
    return {k: v for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)}


def _numel(entry: dict) -> int:
    count = 1
    for dim in entry.get("shape", ()):
        count *= int(dim)
    return count


def single_file_counts(path: Path) -> dict[str, int]:
    """{component: number of weights} of a single-file checkpoint."""
    counts = dict.fromkeys(COMPONENTS, 0)
    header = safetensors_header(path)
    if not header:
        return {"unet": path.stat().st_size // 2} if path.is_file() else {}
    for key, entry in header.items():
        if key.startswith(_IGNORED):
            continue
        part = next((c for prefix, c in PREFIXES if key.startswith(prefix)), None)
        if part is not None:
            counts[part] += _numel(entry)
    return {k: v for k, v in counts.items() if v}


def folder_counts(path: Path) -> dict[str, int]:
    """{component: number of weights} of a diffusers folder (one subfolder per component)."""
    counts: dict[str, int] = {}
    for part in COMPONENTS:
        folder = next((path / name for name in FOLDERS.get(part, (part,)) if (path / name).is_dir()), None)
        if folder is None:
            continue
        total = 0
        for file in sorted(folder.glob("*.safetensors")):
            if ".fp16." in file.name and any(folder.glob(file.name.replace(".fp16.", "."))):
                continue  # a variant beside the main file: one of them is loaded
            total += sum(_numel(e) for e in safetensors_header(file).values())
        if total == 0:
            total = sum(f.stat().st_size for f in folder.glob("*.bin")) // 4
        if total:
            counts[part] = total
    return counts


def component_widths(path: Path) -> dict[str, int]:
    """{component: full-resolution channels} for the UNet and VAE, from the headers ({} if unknown)."""
    headers: list[tuple[str, dict]] = []
    if path.is_dir():
        for part in WIDTH_KEYS:
            for file in sorted((path / part).glob("*.safetensors"))[:1]:
                headers += [(part, safetensors_header(file))]
    elif path.is_file():
        header = safetensors_header(path)
        headers = [(part, {k[len(prefix):]: v for k, v in header.items() if k.startswith(prefix)})
                   for prefix, part in PREFIXES if part in WIDTH_KEYS]
    widths = {}
    for part, header in headers:
        names, axis = WIDTH_KEYS[part]
        entry = next((header[k] for k in names if k in header), None)
        if entry is not None and len(entry.get("shape", ())) > axis:
            widths[part] = int(entry["shape"][axis])
    return widths


def weight_count(path: Path) -> int:
    """Weights (elements) in a model file, or in the .safetensors files of a model folder, for
    loaders of one component (a VAE, a ControlNet, an upscaler). Pickles count by file size."""
    if path.is_dir():
        files = sorted(path.rglob("*.safetensors"))
        plain = [f for f in files if ".fp16." not in f.name]  # a variant beside the main file
        return sum(weight_count(f) for f in plain or files)
    if not path.is_file():
        return 0
    header = safetensors_header(path)
    if header:
        return sum(_numel(e) for k, e in header.items() if not k.startswith(_IGNORED))
    return path.stat().st_size // 2


def matrix_count(path: Path) -> int:
    """Weights in 2-D tensors (linear layers' matrices): what fp8 storage keeps at one byte each."""
    if path.is_dir():
        return sum(matrix_count(f) for f in sorted(path.rglob("*.safetensors")) if ".fp16." not in f.name)
    header = safetensors_header(path) if path.is_file() else {}
    return sum(_numel(e) for k, e in header.items() if len(e.get("shape", ())) == 2 and not k.startswith(_IGNORED))


def component_counts(path: Path) -> dict[str, int]:
    """{component: number of weights} of a checkpoint file or diffusers folder ({} if unreadable)."""
    if path.is_dir():
        return folder_counts(path)
    if path.is_file():
        return single_file_counts(path)
    return {}


def native_side(path: Path) -> int:
    """The picture side (pixels) the checkpoint makes by default, read without torch (0: unknown).

    A diffusers folder says it: the UNet's `sample_size` times the VAE's scale. A single file
    does not; its loader takes the shipped config of the SD its header shows (`_sd_configs`).
    """
    if path.is_dir():
        unet, vae = _json(path / "unet" / "config.json"), _json(path / "vae" / "config.json")
        side, blocks = unet.get("sample_size"), vae.get("block_out_channels")
        if isinstance(side, list) and side:
            side = max(side)
        if not isinstance(side, int) or not isinstance(blocks, list) or not blocks:
            return 0
        return side * 2 ** (len(blocks) - 1)
    header = safetensors_header(path) if path.is_file() else {}
    if not header:
        return 0
    from nodeflow.core.family_detection import sd_architecture
    from nodeflow.core.paths import RESOURCES
    from nodes.models._sd_configs import SD_CONFIGS

    folder = SD_CONFIGS.get(sd_architecture({key: entry.get("shape", ()) for key, entry in header.items()}))
    return native_side(RESOURCES / "configs" / folder) if folder else 0


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
