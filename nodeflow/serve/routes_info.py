"""What the server has: /object_info, /system_stats, /embeddings, /models, /view_metadata, /extensions."""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from pathlib import Path

import psutil
from aiohttp import web

from nodeflow import __version__
from nodeflow.library import KINDS, default_library
from nodeflow.serve.access import BadRequest
from nodeflow.serve.object_info import object_info
from nodeflow.serve.state import state_of

routes = web.RouteTableDef()
#: The ComfyUI flags clients read off /system_stats: NodeFlow has no Comfy.org API nodes, and ComfyUI's
#: web frontend, told so, does not call api.comfy.org (release notes) from the user's browser.
ARGV = ["--disable-api-nodes"]
#: Bytes of a safetensors header /view_metadata reads at most.
MAX_HEADER = 16 * 2**20


@routes.get("/object_info")
async def get_object_info(request: web.Request) -> web.Response:
    state = state_of(request)
    return web.json_response(await state.blocking(object_info, state.registry, state.config.input_dir))


@routes.get("/object_info/{node_class}")
async def get_object_info_one(request: web.Request) -> web.Response:
    state = state_of(request)
    return web.json_response(await state.blocking(object_info, state.registry, state.config.input_dir,
                                                  request.match_info["node_class"]))


def _devices(device: str) -> list[dict]:
    memory = psutil.virtual_memory()
    cpu = {"name": "cpu", "type": "cpu", "index": 0, "vram_total": memory.total, "vram_free": memory.available,
           "torch_vram_total": memory.total, "torch_vram_free": memory.available}
    if device == "cpu":
        return [cpu]
    import torch  # the executor has it loaded already

    if torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info()
        return [{"name": torch.cuda.get_device_name(0), "type": "cuda", "index": 0, "vram_total": total,
                 "vram_free": free, "torch_vram_total": total, "torch_vram_free": free}]
    return [cpu]


def _system_stats(state) -> dict:
    memory = psutil.virtual_memory()
    try:  # read from the installed package, not by importing torch: a first import takes seconds, and
        torch_version = metadata.version("torch")  # the web frontend gives up on /system_stats after a few
    except metadata.PackageNotFoundError:
        torch_version = ""
    return {
        "system": {"os": sys.platform, "ram_total": memory.total, "ram_free": memory.available,
                   "comfyui_version": f"nodeflow-{__version__}", "nodeflow_version": __version__,
                   "python_version": sys.version, "pytorch_version": torch_version, "embedded_python": False,
                   "argv": ARGV, "platform": platform.platform()},
        "devices": _devices(state.worker.executor.device()),
    }


@routes.get("/system_stats")
async def get_system_stats(request: web.Request) -> web.Response:
    state = state_of(request)
    return web.json_response(await state.blocking(_system_stats, state))


def _names(kind: str) -> list[str]:
    return [entry.name for entry in default_library().scan(kind)]


@routes.get("/embeddings")
async def get_embeddings(request: web.Request) -> web.Response:
    names = await state_of(request).blocking(_names, "embeddings")
    return web.json_response([str(Path(name).with_suffix("")) for name in names])


@routes.get("/models")
async def get_models(request: web.Request) -> web.Response:
    return web.json_response(list(KINDS))


@routes.get("/models/{folder}")
async def get_models_folder(request: web.Request) -> web.Response:
    folder = request.match_info["folder"]
    if folder not in KINDS:
        raise web.HTTPNotFound()
    return web.json_response(await state_of(request).blocking(_names, folder))


def _metadata(kind: str, name: str) -> dict | None:
    """A safetensors file's `__metadata__`, read from its header within `MAX_HEADER` bytes."""
    entry = next((e for e in default_library().scan(kind) if e.name == name), None)
    if entry is None or not entry.path.is_file() or entry.path.suffix != ".safetensors":
        return None
    with open(entry.path, "rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        if not 0 < size <= MAX_HEADER:
            return None
        try:
            header = json.loads(handle.read(size))
        except ValueError:
            return None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return meta if isinstance(meta, dict) else None


@routes.get("/view_metadata/{folder}")
async def get_view_metadata(request: web.Request) -> web.Response:
    folder, name = request.match_info["folder"], request.query.get("filename", "")
    if folder not in KINDS or not name:
        raise BadRequest("invalid_request", "a model folder and ?filename= are needed")
    meta = await state_of(request).blocking(_metadata, folder, name)
    if meta is None:
        raise web.HTTPNotFound()
    return web.json_response(meta)


@routes.get("/extensions")
async def get_extensions(request: web.Request) -> web.Response:
    return web.json_response([])  # no front-end extensions: nothing here runs code in a browser
