"""Images in messages: what a multimodal message carries and how transcripts keep it.

An :class:`Image` holds bytes (read from a file or decoded from base64) or only a URL
the provider fetches itself. Its JSON form is AutoGen's (``{"data": "<base64>"}``) plus
the media type, or ``{"url": ...}``. A transcript should not carry megabytes of base64
per message: :func:`store_images` swaps every inline image of dumped JSON for a reference
into an :class:`ImageStore` (``{"ref": ...}``), and :func:`restore_images` swaps them back
before loading. :class:`DirectoryImageStore` keeps images as files named by their hash.
"""

from __future__ import annotations

import abc
import base64
import binascii
import hashlib
import mimetypes
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runtime.errors import ConfigurationError

__all__ = ["DirectoryImageStore", "Image", "ImageStore", "restore_images", "store_images"]

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def _sniff(data: bytes) -> str:
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


class Image:
    """An image for a :class:`~runtime.MultiModalMessage`: bytes and their media type, or
    a URL. Build one with :meth:`from_file`, :meth:`from_base64` or :meth:`from_url`."""

    __slots__ = ("_data", "_mime", "_url")

    def __init__(self, *, data: bytes | None = None, mime: str = "", url: str | None = None):
        if (data is None) == (url is None):
            raise ConfigurationError("an image has either bytes or a URL")
        self._data = data
        self._url = url
        self._mime = mime or (_sniff(data) if data is not None else "")

    @classmethod
    def from_file(cls, path: str | Path) -> Image:
        """The image in a file (read now)."""
        file = Path(path)
        mime = mimetypes.guess_type(file.name)[0] or ""
        return cls(data=file.read_bytes(), mime=mime if mime.startswith("image/") else "")

    @classmethod
    def from_base64(cls, data: str, mime: str = "") -> Image:
        """An image from base64 text, or from a ``data:image/...;base64,...`` URI."""
        match = _DATA_URI.match(data)
        if match is not None:
            data, mime = match["data"], mime or match["mime"]
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError(f"the image is not valid base64: {exc}") from exc
        return cls(data=raw, mime=mime)

    from_uri = from_base64

    @classmethod
    def from_url(cls, url: str) -> Image:
        """An image the model provider fetches from ``url`` (never fetched here)."""
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"an image URL must be http(s), got {url[:40]!r}")
        return cls(url=url)

    @property
    def data(self) -> bytes | None:
        """The bytes (``None`` for a URL image)."""
        return self._data

    @property
    def mime(self) -> str:
        """The media type, e.g. ``image/png`` (empty for a URL image)."""
        return self._mime

    @property
    def url(self) -> str | None:
        """The URL of a URL image."""
        return self._url

    def to_base64(self) -> str:
        """The bytes as base64 text."""
        if self._data is None:
            raise ConfigurationError("a URL image has no bytes here")
        return base64.b64encode(self._data).decode("ascii")

    @property
    def data_uri(self) -> str:
        """``data:<mime>;base64,...``, or the URL of a URL image."""
        if self._url is not None:
            return self._url
        return f"data:{self._mime};base64,{self.to_base64()}"

    def digest(self) -> str:
        """The SHA-256 of the bytes (or of the URL)."""
        source = self._data if self._data is not None else (self._url or "").encode()
        return hashlib.sha256(source).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """JSON data (``{"data", "mime"}`` or ``{"url"}``); :meth:`from_dict` restores it."""
        if self._url is not None:
            return {"url": self._url}
        return {"data": self.to_base64(), "mime": self._mime}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Image:
        if isinstance(data.get("url"), str):
            return cls.from_url(data["url"])
        if isinstance(data.get("data"), str):
            return cls.from_base64(data["data"], str(data.get("mime") or ""))
        if "ref" in data:
            raise ConfigurationError(
                "this image is a reference into an image store; call restore_images() first"
            )
        raise ConfigurationError("an image needs 'data' (base64) or 'url'")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        return (self._data, self._url, self._mime) == (other._data, other._url, other._mime)

    def __hash__(self) -> int:
        return hash(self.digest())

    def __repr__(self) -> str:
        if self._url is not None:
            return f"Image(url={self._url!r})"
        return f"Image({self._mime}, {len(self._data or b'')} bytes)"


def is_image_dict(value: object) -> bool:
    """Whether JSON data is an image's :meth:`Image.to_dict` (inline or URL)."""
    return (
        isinstance(value, dict)
        and ("data" in value or "url" in value)
        and set(value) <= {"data", "mime", "url"}
    )


class ImageStore(abc.ABC):
    """Where transcripts keep image bytes; references are short strings."""

    @abc.abstractmethod
    def save(self, image: Image) -> str:
        """Keep ``image`` and return its reference (the same image, the same reference)."""

    @abc.abstractmethod
    def load(self, reference: str) -> Image:
        """The image saved under ``reference``."""


class DirectoryImageStore(ImageStore):
    """Images as files ``<sha256>.<ext>`` in one directory (created when missing)."""

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        return self._root

    def save(self, image: Image) -> str:
        reference = f"{image.digest()}.{_EXTENSIONS.get(image.mime, 'bin')}"
        path = self._root / reference
        if not path.exists():
            path.write_bytes(image.data or b"")
        return reference

    def load(self, reference: str) -> Image:
        if not re.fullmatch(r"[0-9a-f]{64}\.[a-z]{2,4}", reference):
            raise ConfigurationError(f"not an image reference of this store: {reference!r}")
        path = self._root / reference
        if not path.is_file():
            raise ConfigurationError(f"image {reference} is not in {self._root}")
        mime = next((m for m, ext in _EXTENSIONS.items() if reference.endswith(ext)), "")
        return Image(data=path.read_bytes(), mime=mime)


def store_images(data: Any, store: ImageStore) -> Any:
    """A copy of JSON ``data`` (a dumped message, result or state) in which every inline
    image is ``{"ref": ...}`` into ``store``. URL images stay as they are."""
    if isinstance(data, dict):
        if is_image_dict(data) and "data" in data:
            return {"ref": store.save(Image.from_dict(data))}
        return {key: store_images(value, store) for key, value in data.items()}
    if isinstance(data, list):
        return [store_images(item, store) for item in data]
    return data


def restore_images(data: Any, store: ImageStore) -> Any:
    """The inverse of :func:`store_images`: references become inline images again."""
    if isinstance(data, dict):
        if set(data) == {"ref"} and isinstance(data["ref"], str):
            return store.load(data["ref"]).to_dict()
        return {key: restore_images(value, store) for key, value in data.items()}
    if isinstance(data, list):
        return [restore_images(item, store) for item in data]
    return data
