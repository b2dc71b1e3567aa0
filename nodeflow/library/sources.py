"""Where models can be downloaded, as a workflow's manifest records it for the next user.

The manifest section `model_urls` maps a model's manifest key ("loras/style.safetensors") to a
URL. A run writes it from what the workflow recorded, else from the URL the library fetched the
model from (kept in the hash index), so a workflow shared after a run says where its models come
from. Kept apart from `fetch` so the executor records URLs without importing the downloader.
"""

from __future__ import annotations

from nodeflow.library.index import HashIndex

#: Manifest section: manifest key -> the URL the model can be fetched from.
URLS = "model_urls"


def download_urls(used: dict[str, str], manifest: dict, index: HashIndex) -> dict[str, str]:
    """Where each model a run used (manifest key -> sha256) can be downloaded: the URL the workflow
    recorded, else the one the library fetched it from, so the next user can fetch it too."""
    recorded = manifest.get(URLS)
    recorded = recorded if isinstance(recorded, dict) else {}
    urls = {}
    for name, digest in used.items():
        url = recorded.get(name)
        url = url if isinstance(url, str) else index.source(digest)
        if url:
            urls[name] = url
    return dict(sorted(urls.items()))
