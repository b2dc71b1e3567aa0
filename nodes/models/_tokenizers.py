"""Where a CLIP tokenizer comes from, offline: the one rule every loader asks.

A single-file checkpoint or a split text encoder holds no tokenizer. In order, NodeFlow uses a
tokenizer folder that comes with the model (inside a model folder, or beside a file as
`<name>.tokenizer/` or `tokenizer/`), the user's `models/tokenizers/<architecture>/<part>/`, and
otherwise the vocabulary it ships: OpenAI CLIP's byte-pair vocabulary (`resources/tokenizers/clip`,
MIT), which every supported CLIP text encoder uses (SD 1.x's CLIP-L, SD 2.x's OpenCLIP-H, SDXL's
CLIP-L and OpenCLIP-bigG: ComfyUI ships the same one file for all of them). What differs between
those encoders (the padding token, the window) is the architecture's shipped tokenizer config in
`resources/configs/<architecture>/<part>/`. So a tokenizer is always found, and a run never fails
for want of one. The same holds for T5 (`SHIPPED_T5`, Apache-2.0), the last place a lone T5 file's
tokenizer is looked for (`t5_tokenizer`); a UMT5 file (Wan's) has another vocabulary, its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nodeflow.core import NodeError
from nodeflow.core.paths import RESOURCES

#: OpenAI CLIP's vocabulary in the layout transformers reads (vocab.json + merges.txt).
SHIPPED_VOCABULARY = RESOURCES / "tokenizers" / "clip"
#: Google's T5 (v1.1) SentencePiece vocabulary as a tokenizer.json with its config: what every T5
#: encoder of the flow families (T5-XXL of Flux, SD3, Chroma) was trained with.
SHIPPED_T5 = RESOURCES / "tokenizers" / "t5"
_FILES = ("vocab.json", "merges.txt")


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in _FILES)


def user_tokenizer_dir(model: Path, arch: str, part: str = "tokenizer") -> Path | None:
    """A tokenizer folder the user provided for this model or architecture, if any."""
    from nodeflow.core.paths import user_models_dir

    for folder in (model / part, model.parent / f"{model.stem}.{part}", model.parent / part,
                   user_models_dir() / "tokenizers" / arch / part):
        if _complete(folder):
            return folder
    return None


def clip_tokenizer(model: Path, arch: str, part: str = "tokenizer", configs: Path | None = None) -> Any:
    """The CLIP tokenizer for `part` ("tokenizer" or "tokenizer_2") of a model of architecture
    `arch`; `configs` is the folder of shipped architecture configs (resources/configs)."""
    from transformers import CLIPTokenizer

    own = user_tokenizer_dir(model, arch, part)
    if own is not None:
        return CLIPTokenizer.from_pretrained(own, local_files_only=True)
    config = (configs or RESOURCES / "configs") / arch / part
    if _complete(config):  # an architecture whose config folder carries its own vocabulary
        return CLIPTokenizer.from_pretrained(config, local_files_only=True)
    if not config.is_dir():
        raise NodeError(f"no shipped tokenizer config for the {arch} architecture's {part} in {config}", "checkpoint")
    return CLIPTokenizer.from_pretrained(config, local_files_only=True,
                                         vocab_file=str(SHIPPED_VOCABULARY / "vocab.json"),
                                         merges_file=str(SHIPPED_VOCABULARY / "merges.txt"))


def t5_tokenizer(path: Path, family: Any, part: str) -> Any:
    """A T5 tokenizer for a lone T5 file: inside its folder, beside it, the SentencePiece model the file
    carries (ComfyUI's UMT5 files: `_language_encoders.embedded_tokenizer`), in the user's tokenizers, or
    else, for T5 itself, the one NodeFlow ships (`SHIPPED_T5`): UMT5's vocabulary
    is another (Wan's), so a UMT5 file without one is refused rather than read with T5's."""
    import transformers

    from nodeflow.core.paths import user_models_dir
    from nodes.models._language_encoders import embedded_tokenizer

    spec = next(e for e in family.encoders if e.part == part)
    tok_part = part.replace("text_encoder", "tokenizer")
    own = [path if path.is_dir() else path.parent / f"{path.stem}.{tok_part}", path.parent / tok_part]
    user = user_models_dir() / "tokenizers" / family.config / tok_part
    umt5 = spec.model.startswith("UMT5")

    def found(folder: Path) -> bool:
        return (folder / "tokenizer_config.json").is_file() or (folder / "spiece.model").is_file()

    for folder in own:
        if found(folder):
            return getattr(transformers, spec.tokenizer).from_pretrained(folder, local_files_only=True)
    embedded = embedded_tokenizer(path, "T5Tokenizer", "clip_name", "spiece.model", {"extra_ids": 0})
    if embedded is not None:
        return embedded
    for folder in [user] if umt5 else [user, SHIPPED_T5]:
        if found(folder):
            return getattr(transformers, spec.tokenizer).from_pretrained(folder, local_files_only=True)
    if umt5:
        raise NodeError(f"no UMT5 tokenizer for {path.name}: the file carries none as 'spiece_model' (ComfyUI's "
                        f"umt5_xxl files do); put UMT5's tokenizer files (spiece.model, or tokenizer.json with "
                        f"tokenizer_config.json) into {user} or {own[1]}", "clip_name")
    raise NodeError(f"no T5 tokenizer for {path.name}: NodeFlow's own ({SHIPPED_T5}) is missing; put the T5 "
                    f"tokenizer files (spiece.model or tokenizer.json with tokenizer_config.json) into "
                    f"{user} or {own[1]}", "clip_name")
