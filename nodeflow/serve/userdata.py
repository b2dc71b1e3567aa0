"""The frontend's user files: workflows saved from the browser, kept in NodeFlow's user data folder.

ComfyUI's web frontend saves a workflow with POST /userdata/workflows%2F<name>.json, lists them
with GET /userdata?dir=workflows (recurse, full_info, split), loads, moves and deletes them. These
routes answer as ComfyUI's do (409 when `overwrite=false` meets an existing file, saved paths
relative to the user folder, full_info records with times in milliseconds), but the only user
files here are the workflows, in `ServeConfig.workflows_dir` (the user data folder's
`workflows/`): any other user file is not found and cannot be written.

A name is checked before the file system is asked: relative, no '..', NUL, backslash, leading
dot, reserved character or Windows device name in any part, at most MAX_DEPTH folders deep and
ending in .json; then its real path (links resolved, `files.contained`) must lie inside the
folder. A body must be JSON within the request bound, and the folder keeps at most MAX_FILES.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from aiohttp import web

from nodeflow.core.atomic import atomic_file, write_atomic
from nodeflow.serve.access import BadRequest, decode_json, read_body
from nodeflow.serve.files import Refused, contained

#: The user-data folder the frontend keeps workflows in (its names start with it).
PREFIX = "workflows"
#: Files the folder keeps at most (a listing shows no more), folders deep, bytes of one name part.
MAX_FILES = 10_000
MAX_DEPTH = 8
MAX_PART_BYTES = 255
WORKFLOWS = web.AppKey("nodeflow_user_workflows", Path)
_DEVICE_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_RESERVED = set('<>:"|?*\\') | {chr(code) for code in range(32)}


def relative_name(name: str) -> str | None:
    """`<rest>` of a user-file name `workflows/<rest>`; None for any other user file."""
    head, sep, rest = name.partition("/")
    return rest if head == PREFIX and sep else None


def check_parts(rest: str) -> list[str]:
    """The parts of a name inside the folder, or Refused naming the first one no file system should take."""
    if rest.startswith("/"):
        raise Refused("the name must be relative to the workflows folder, not absolute")
    parts = rest.split("/")
    if len(parts) > MAX_DEPTH + 1:
        raise Refused(f"the name is more than {MAX_DEPTH} folders deep")
    for part in parts:
        if (not part or part.startswith(".") or part.endswith(" ") or part.endswith(".") or _RESERVED & set(part)
                or len(part.encode("utf-8", "surrogatepass")) > MAX_PART_BYTES
                or part.split(".")[0].strip().lower() in _DEVICE_NAMES):
            raise Refused(f"{part[:60]!r} is not a name a workflow may have (empty, leading dot, reserved name "
                          f"or character, or over {MAX_PART_BYTES} bytes)")
    return parts


def workflow_path(root: Path, rest: str, *, create: bool = False) -> Path:
    """The real path of workflow file `rest` inside `root` (its folders made when `create`), or Refused."""
    check_parts(rest)
    if not rest.endswith(".json"):
        raise Refused("a workflow's name ends in .json")
    folder, _, name = rest.rpartition("/")
    target = contained(root, folder, name)  # checked before a folder is made: a link out makes none
    if create:
        target.parent.mkdir(parents=True, exist_ok=True)
        target = contained(root, folder, name)
    return target


def listing(root: Path, rest: str, recurse: bool, full_info: bool, split: bool) -> list[Any] | None:
    """The files in folder `rest` of `root` as ComfyUI lists them; None when the folder is missing."""
    if rest:
        parts = check_parts(rest)
        folder = contained(root, "/".join(parts[:-1]), parts[-1])
    else:
        folder = root.resolve()
    if not folder.is_dir():
        return None
    base, found = root.resolve(), []
    for here, folders, files in os.walk(folder):  # links to folders are not entered
        folders[:] = sorted(f for f in folders if recurse and not f.startswith("."))
        for name in sorted(files):
            path = Path(here) / name
            if name.startswith(".") or not path.resolve().is_relative_to(base) or not path.is_file():
                continue
            relative = path.relative_to(folder).as_posix()
            found.append(file_info(path, relative) if full_info else [relative, *relative.split("/")] if split
                         else relative)
            if len(found) >= MAX_FILES:
                return found
    return found


def file_info(path: Path, relative: str) -> dict[str, Any]:
    stat = path.stat()
    return {"path": relative, "size": stat.st_size, "modified": int(stat.st_mtime * 1000),
            "created": int(stat.st_ctime * 1000)}


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def save(root: Path, rest: str, body: bytes, overwrite: bool) -> Path | None:
    """Write the workflow atomically; None when it exists and `overwrite` is off."""
    target = workflow_path(root, rest, create=True)
    if not target.exists() and count_files(root) >= MAX_FILES:
        raise Refused(f"the workflows folder keeps at most {MAX_FILES} files: delete some first")
    if overwrite:
        write_atomic(target, body)
        return target
    try:
        with atomic_file(target, exclusive=True) as handle:
            handle.write(body)
    except FileExistsError:
        return None
    return target


def move(root: Path, rest: str, dest: str, overwrite: bool) -> Path | None:
    """Rename a workflow inside the folder; None when the destination exists and `overwrite` is off."""
    source = workflow_path(root, rest)
    if not source.is_file():
        raise FileNotFoundError(rest)
    target = workflow_path(root, dest, create=True)
    if target.exists() and not overwrite:
        return None
    os.replace(source, target)
    return target


def _rest(request: web.Request, key: str = "file") -> str | None:
    return relative_name(request.match_info[key])


def _answer(root: Path, rest: str, full_info: bool) -> web.Response:
    """What a save or move answers: the file's path from the user folder, or its full record."""
    name = f"{PREFIX}/{rest}"
    return web.json_response(file_info(workflow_path(root, rest), name) if full_info else name)


def _flag(request: web.Request, name: str, default: str = "false") -> bool:
    return request.query.get(name, default).lower() == "true"


def _exists_conflict() -> web.Response:
    return web.Response(status=409, text="File already exists")


def _refused(exc: Refused) -> BadRequest:
    return BadRequest("invalid_request", f"user file: {exc}")


def _read_only() -> BadRequest:
    return BadRequest("read_only", f"this server keeps only workflows as user files ({PREFIX}/<name>.json)")


async def list_userdata(request: web.Request) -> web.Response:
    directory = request.query.get("dir", "").strip("/")
    rest = "" if directory == PREFIX else relative_name(directory)
    if rest is None:
        return web.json_response([])  # no other user files: nothing to list
    try:
        found = await asyncio.to_thread(listing, request.app[WORKFLOWS], rest, _flag(request, "recurse"),
                                        _flag(request, "full_info"), _flag(request, "split"))
    except Refused as exc:
        raise _refused(exc) from None
    if found is None and rest:
        raise web.HTTPNotFound(text="Directory not found")
    return web.json_response(found or [])


async def get_userdata(request: web.Request) -> web.StreamResponse:
    rest = _rest(request)
    if rest is None:
        raise web.HTTPNotFound()
    try:
        target = workflow_path(request.app[WORKFLOWS], rest)
    except Refused as exc:
        raise _refused(exc) from None
    if not target.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(target, headers={"Content-Type": "application/json", "X-Content-Type-Options": "nosniff",
                                             "Content-Disposition": "attachment"})


async def post_userdata(request: web.Request) -> web.Response:
    rest, root = _rest(request), request.app[WORKFLOWS]
    if rest is None:
        raise _read_only()
    try:
        workflow_path(root, rest)  # a bad name is refused before the body is read
        body = await read_body(request)
        decode_json(body)  # a workflow is JSON: nothing else is kept
        saved = await asyncio.to_thread(save, root, rest, body, request.query.get("overwrite", "true") != "false")
    except Refused as exc:
        raise _refused(exc) from None
    return _answer(root, rest, _flag(request, "full_info")) if saved else _exists_conflict()


async def delete_userdata(request: web.Request) -> web.Response:
    rest = _rest(request)
    if rest is None:
        raise _read_only()
    try:
        target = workflow_path(request.app[WORKFLOWS], rest)
    except Refused as exc:
        raise _refused(exc) from None
    if not target.is_file():
        raise web.HTTPNotFound()
    target.unlink()
    return web.Response(status=204)


async def move_userdata(request: web.Request) -> web.Response:
    rest, dest, root = _rest(request), _rest(request, "dest"), request.app[WORKFLOWS]
    if rest is None or dest is None:
        raise _read_only()
    try:
        moved = await asyncio.to_thread(move, root, rest, dest, request.query.get("overwrite", "true") != "false")
    except Refused as exc:
        raise _refused(exc) from None
    except FileNotFoundError:
        raise web.HTTPNotFound() from None
    return _answer(root, dest, _flag(request, "full_info")) if moved else _exists_conflict()


#: (method, path, handler) for the frontend's table; `/userdata/user.css` and the templates list come first.
ROUTES = [("GET", "/userdata", list_userdata), ("GET", "/userdata/{file}", get_userdata),
          ("POST", "/userdata/{file}", post_userdata), ("DELETE", "/userdata/{file}", delete_userdata),
          ("POST", "/userdata/{file}/move/{dest}", move_userdata)]
