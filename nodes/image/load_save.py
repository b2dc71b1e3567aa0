"""Image nodes: load, save (with the workflow embedded), preview, scale, composite."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from nodeflow.core import Input, Node, NodeError, Output, RunContext, default_registry
from nodeflow.core.masks import check_mask_text, decode_mask
from nodeflow.core.spec import MemoryNeed
from nodeflow.core.types import BOOLEAN, IMAGE, INT, MASK, STRING
from nodes.image._resize import scale_image

#: Load Image refuses pictures above this many pixels (8192 x 8192), whatever memory is free.
MAX_LOAD_PIXELS = 8192 * 8192
#: Peak bytes per pixel while loading: decoded RGB(A), float32 copies for the image and the mask.
LOAD_BYTES_PER_PIXEL = 40
SCALE_METHODS = ("lanczos", "bicubic", "bilinear", "area", "nearest-exact")


def parameters_text(workflow_json: str) -> str:
    """The A1111-style parameters text (`core.infotext`) of the workflow a picture embeds."""
    from nodeflow.core.infotext import parameters_text as infotext

    try:
        data = json.loads(workflow_json)
    except ValueError:
        return ""
    return infotext(data, default_registry()) if isinstance(data, dict) else ""


class LoadImage(Node):
    type_id = "image.load"
    title = "Load Image"
    category = "image"
    description = (
        "Reads a picture (PNG, JPEG, WebP...). EXIF orientation is applied. The MASK output "
        "(1 = repaint) is the mask painted in the mask editor when there is one (it is saved "
        "inside the workflow, so it travels with it); otherwise the alpha channel (transparent = "
        "repaint); pictures without either give an empty mask."
    )
    inputs = (
        Input("image", STRING, default="", file="file", help="The picture file."),
        Input("painted_mask", STRING, default="", widget="mask", check=check_mask_text,
              help="The mask painted over the picture in the mask editor (white = repaint), "
                   "stored in the workflow as a small PNG. Empty: use the picture's alpha."),
    )
    outputs = (Output("image", IMAGE), Output("mask", MASK))

    def run(self, ctx: RunContext, image: str, painted_mask: str = "") -> tuple[Any, Any]:
        import numpy as np
        import torch
        from PIL import Image, ImageOps, UnidentifiedImageError

        path = ctx.input_file(image, "image", "image")
        try:
            with Image.open(path) as opened:
                if opened.width * opened.height > MAX_LOAD_PIXELS:
                    raise NodeError(f"{path.name} is {opened.width}x{opened.height}, over the budget of "
                                    f"{MAX_LOAD_PIXELS:,} pixels", "image")
                pil = ImageOps.exif_transpose(opened)
                pil.load()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise NodeError(f"cannot read {path.name}: {exc}", "image") from None
        has_alpha = pil.mode in ("RGBA", "LA", "PA") or (pil.mode == "P" and "transparency" in pil.info)
        rgb = pil.convert("RGB")
        if pil.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit greyscale: keep its precision
            grey = np.array(pil).astype(np.float32) / 65535.0
            pixels = torch.from_numpy(np.repeat(grey[..., None], 3, axis=-1).clip(0, 1))[None]
        else:
            pixels = torch.from_numpy(np.array(rgb).astype(np.float32) / 255.0)[None]
        if painted_mask:
            mask = _painted(ctx, painted_mask, rgb.width, rgb.height)
        elif has_alpha:
            alpha = np.array(pil.convert("RGBA"))[..., 3].astype(np.float32) / 255.0
            mask = 1.0 - torch.from_numpy(alpha)[None]
        else:
            mask = torch.zeros((1, rgb.height, rgb.width), dtype=torch.float32)
        return pixels, mask

    @classmethod
    def memory_needs(cls, params: Mapping[str, Any], resolve: Callable[[str], Path]) -> list[MemoryNeed]:
        """The picture's size from its header (nothing is decoded), against the pixel budget."""
        from PIL import Image

        name = params.get("image")
        if not isinstance(name, str) or not name.strip():
            return []
        budget = MAX_LOAD_PIXELS * LOAD_BYTES_PER_PIXEL
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the budget decides
                with Image.open(resolve(name)) as opened:
                    width, height = opened.size
        except Image.DecompressionBombError:
            least = 2 * (Image.MAX_IMAGE_PIXELS or MAX_LOAD_PIXELS)
            return [MemoryNeed(least * LOAD_BYTES_PER_PIXEL, "image",
                               f"a picture of more than {least:,} pixels", budget=budget)]
        except (OSError, ValueError, SyntaxError):
            return []  # missing or unreadable files are reported by validation and by the node
        return [MemoryNeed(width * height * LOAD_BYTES_PER_PIXEL, "image", f"a {width}x{height} picture",
                           budget=budget, pixels=width * height)]


def _painted(ctx: RunContext, stored: str, width: int, height: int) -> Any:
    """The painted mask as [1, H, W] floats, stretched to the picture if the file changed size."""
    import numpy as np
    import torch
    from PIL import Image

    try:
        mw, mh, data = decode_mask(stored)
    except ValueError as exc:
        raise NodeError(str(exc), "painted_mask") from None
    grey = Image.frombytes("L", (mw, mh), data)
    if (mw, mh) != (width, height):
        ctx.warn(f"the painted mask is {mw}x{mh} but the picture is {width}x{height}; "
                 f"the mask was stretched to fit (repaint it to be exact)")
        grey = grey.resize((width, height), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(grey, dtype=np.float32) / 255.0)[None].contiguous()


_EIGHT_BIT_HELP = ("How float pixels become 8 bits: round (as diffusers, NodeFlow's own) or truncate (as "
                   "ComfyUI saves them; set on workflows imported from ComfyUI). They differ by at most one level.")


class SaveImage(Node):
    type_id = "image.save"
    title = "Save Image"
    category = "image"
    description = (
        "Saves PNGs as '<prefix>_<counter>.png' in the output folder (never overwriting). Each PNG "
        "carries the workflow that made it (open or drop it in NodeFlow to get the graph back) and "
        "the main settings as readable text. The pictures pass through (ComfyUI's Save Image has that "
        "output too: its templates compare the saved picture with the source)."
    )
    is_output = True
    inputs = (
        Input("images", IMAGE),
        Input("filename_prefix", STRING, default="nodeflow", output_prefix=True),
        Input("eight_bit", STRING, default="round", choices=("round", "truncate"), help=_EIGHT_BIT_HELP),
    )
    outputs = (Output("images", IMAGE),)

    def run(self, ctx: RunContext, images: Any, filename_prefix: str, eight_bit: str = "round") -> dict:
        from nodeflow.core.files import SAVED_PATH_INFO
        from nodes._tensors import image_to_pils

        pils = image_to_pils(images, eight_bit)
        for pil in pils:
            info = png_info(ctx)
            path = ctx.write_output(filename_prefix, ".png", partial(_write_png, pil, info))
            ctx.report(f"saved {path}")
            pil.info[SAVED_PATH_INFO] = str(path)  # so the output viewer can offer the file
        ctx.show_images(pils)
        return {"images": images}


def png_info(ctx: RunContext) -> Any:
    """The text chunks a saved PNG carries (a PIL PngInfo): the running workflow and its main
    settings as readable text, or nothing (with a warning) when the workflow is too large."""
    from PIL.PngImagePlugin import PngInfo

    from nodeflow.core.files import MAX_PNG_WORKFLOW, PNG_PARAMETERS_KEY, embed_workflow

    info = PngInfo()
    embed = ctx.workflow_json
    if len(embed.encode("utf-8")) > MAX_PNG_WORKFLOW:
        ctx.warn(f"the workflow is larger than {MAX_PNG_WORKFLOW // 2**20} MiB, more than a PNG may "
                 "carry and be read back; the pictures are saved without it")
    elif embed:
        embed_workflow(info, embed)
        params = parameters_text(embed)
        if params:
            info.add_text(PNG_PARAMETERS_KEY, params)
    return info


def _write_png(pil: Any, info: Any, handle: Any) -> None:
    pil.save(handle, format="PNG", pnginfo=info, compress_level=4)


class PreviewImage(Node):
    type_id = "image.preview"
    title = "Preview Image"
    category = "image"
    description = "Shows pictures in the output viewer without saving them."
    is_output = True
    inputs = (
        Input("images", IMAGE),
        Input("eight_bit", STRING, default="round", choices=("round", "truncate"), help=_EIGHT_BIT_HELP),
    )
    outputs = ()

    def run(self, ctx: RunContext, images: Any, eight_bit: str = "round") -> dict:
        from nodes._tensors import image_to_pils

        ctx.show_images(image_to_pils(images, eight_bit))
        return {}


class ImageScale(Node):
    type_id = "image.scale"
    title = "Image Scale"
    category = "image"
    description = (
        "Resizes pictures to width x height. crop 'center' keeps the aspect ratio by cutting the "
        "excess; 'disabled' stretches. A width or height of 0 keeps the aspect ratio from the other."
    )
    inputs = (
        Input("image", IMAGE),
        Input("width", INT, default=512, min=0, max=16384, step=8),
        Input("height", INT, default=512, min=0, max=16384, step=8),
        Input("method", STRING, default="lanczos", choices=SCALE_METHODS),
        Input("crop", STRING, default="disabled", choices=("disabled", "center")),
    )
    outputs = (Output("image", IMAGE),)

    @classmethod
    def picture_pixels(cls, params: Mapping[str, Any], pixels: int) -> int:
        from nodes.latent.batch import sized_pixels

        return sized_pixels(dict(params), pixels)

    def run(self, ctx: RunContext, image: Any, width: int, height: int, method: str, crop: str) -> tuple[Any]:
        return (scale_image(image, width, height, method, crop),)


class ImageCompositeMasked(Node):
    type_id = "image.composite_masked"
    title = "Image Composite Masked"
    category = "image"
    description = (
        "Pastes 'source' onto 'destination' at (x, y) where the mask is 1 (everywhere without a "
        "mask). After inpainting, source = the decoded result and destination = the original: "
        "pixels outside the mask come back exactly as they were. resize_source first stretches the source "
        "(and so the mask) to the destination's size, bilinearly as ComfyUI does."
    )
    inputs = (
        Input("destination", IMAGE),
        Input("source", IMAGE),
        Input("x", INT, default=0, min=0, max=16384),
        Input("y", INT, default=0, min=0, max=16384),
        Input("mask", MASK, optional=True),
        Input("resize_source", BOOLEAN, default=False, help="Stretch the source to the destination's size first."),
    )
    outputs = (Output("image", IMAGE),)

    def run(self, ctx: RunContext, destination: Any, source: Any, x: int, y: int, mask: Any = None,
            resize_source: bool = False) -> tuple[Any]:
        import torch

        from nodes._tensors import fit_mask, mask_to_b1hw

        out = destination.clone()
        _, dh, dw, _ = destination.shape
        if resize_source and tuple(source.shape[1:3]) != (dh, dw):
            stretched = torch.nn.functional.interpolate(source.movedim(-1, 1), size=(dh, dw), mode="bilinear")
            source = stretched.movedim(1, -1)
        if x >= dw or y >= dh:
            raise NodeError(f"({x}, {y}) is outside the {dw}x{dh} destination", "x")
        h, w = min(source.shape[1], dh - y), min(source.shape[2], dw - x)
        src = source[:, :h, :w, : destination.shape[3]]
        if src.shape[0] != out.shape[0]:
            if out.shape[0] != 1 and src.shape[0] != 1:
                raise NodeError(f"{src.shape[0]} source images for {out.shape[0]} destinations", "source")
            n = max(src.shape[0], out.shape[0])
            src, out = src.expand(n, -1, -1, -1), out.expand(n, -1, -1, -1).clone()
        region = out[:, y:y + h, x:x + w]
        if mask is None:
            region[...] = src
        else:
            m = fit_mask(mask_to_b1hw(mask), source.shape[1], source.shape[2])[:, 0, :h, :w, None]
            region[...] = torch.where(m >= 1.0, src, torch.where(m <= 0.0, region, region + (src - region) * m))
        return (out,)
