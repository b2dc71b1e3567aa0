"""`nodeflow serve`: ComfyUI's HTTP and websocket API over NodeFlow's job queue.

A thin adapter. A POST /prompt goes through the same importer (`interop.comfyui`, comfyui
convention), validation and queue (`jobs.batch.enqueue`) as `nodeflow run`, into the shared
SQLite queue (batch `serve`), so the editor's Queue tab and `nodeflow queue` see the jobs; one
worker thread runs them with `jobs.local.LocalRunner` and the executor's events become ComfyUI's
websocket messages. The package holds no workflow rules of its own: what it adds is the wire
format (`messages`, `object_info`, `history`), access control (`access`) and file containment
for /view and uploads (`files`).

Modules: `config` (options, limits, the exposure rule), `access` (token, Origin, Host, body
sizes), `prompts` (POST /prompt), `book` (prompts and their history, persisted beside the
queue), `worker` (the job thread), `hub` (websocket clients), `messages` (events -> ComfyUI
messages), `object_info`, `files` (/view and uploads), `state` (what handlers share),
`routes_*` (the handlers), `app` (the aiohttp application and its life cycle).
"""
