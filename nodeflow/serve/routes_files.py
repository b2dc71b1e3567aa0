"""Files: GET /view, POST /upload/image and /upload/mask (rules in `files`)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web
from aiohttp.web_request import FileField

from nodeflow.core.files import MEDIA_TYPES
from nodeflow.serve.access import BadRequest
from nodeflow.serve.files import ACTIVE_TYPES, Refused, merge_mask, save_upload, variant, view_file
from nodeflow.serve.state import state_of

routes = web.RouteTableDef()


@routes.get("/view")
async def view(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    query = request.query
    try:
        path = await state.blocking(view_file, state.config, query.get("type"), query.get("subfolder", ""),
                                    query.get("filename", ""))
        changed = await state.blocking(variant, path, query.get("preview"), query.get("channel"))
    except Refused as exc:
        raise BadRequest("invalid_request", str(exc)) from None
    except FileNotFoundError:
        raise web.HTTPNotFound() from None
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"}
    if changed is not None:
        data, content_type = changed
        return web.Response(body=data, content_type=content_type, headers=headers)
    named = f"filename*=UTF-8''{quote(path.name)}"  # quoted: a name may hold '"' or ';'
    if path.suffix.lower() in ACTIVE_TYPES:
        headers["Content-Disposition"] = f"attachment; {named}"
        headers["Content-Type"] = "application/octet-stream"
    else:
        headers["Content-Disposition"] = f"inline; {named}"
        if path.suffix.lower() in MEDIA_TYPES:  # a saved video or sound file, whatever the system's table says
            headers["Content-Type"] = MEDIA_TYPES[path.suffix.lower()]
    return web.FileResponse(path, headers=headers)


async def _upload_fields(request: web.Request) -> tuple[bytes, str, dict[str, str]]:
    form = await request.post()
    image = form.get("image")
    if not isinstance(image, FileField):
        raise BadRequest("invalid_request", "multipart field 'image' (a file) is missing")
    fields = {key: str(form.get(key, "")) for key in ("type", "subfolder", "overwrite", "original_ref")}
    return image.file.read(), image.filename or "", fields


async def _save(request: web.Request, mask: bool) -> web.Response:
    state = state_of(request)
    data, filename, fields = await _upload_fields(request)
    overwrite = fields["overwrite"].lower() in ("true", "1", "yes")
    try:
        if mask:
            data = await state.blocking(merge_mask, state.config, data, fields["original_ref"])
        saved = await state.blocking(save_upload, state.config, data, filename, fields["type"] or None,
                                     fields["subfolder"], overwrite)
    except Refused as exc:
        raise BadRequest("invalid_request", str(exc)) from None
    return web.json_response(saved.answer())


@routes.post("/upload/image")
async def upload_image(request: web.Request) -> web.Response:
    return await _save(request, mask=False)


@routes.post("/upload/mask")
async def upload_mask(request: web.Request) -> web.Response:
    return await _save(request, mask=True)
