"""The API's paths and the strong ETags of its representations."""

import hashlib
import json
from typing import Any

from pydantic import BaseModel


def is_api_path(path: str) -> bool:
    """True for the API's own paths: /v1 (the index) and everything under it."""
    return path == "/v1" or path.startswith("/v1/")


def strong_etag(*parts: Any) -> str:
    digest = hashlib.blake2b(
        json.dumps(parts, default=str, separators=(",", ":")).encode(), digest_size=16
    ).hexdigest()
    return f'"{digest}"'


def body_etag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def resource_etag(model: BaseModel) -> str:
    """The ETag of a single resource's representation: GET sets it, If-Match is checked
    against it."""
    return strong_etag(model.model_dump(mode="json"))
