"""Recall by meaning: embeddings from the model provider, vectors in an embedded SQLite file.

:class:`SQLiteVectorMemory` keeps each entry with its embedding in one SQLite database
(a file, or ``":memory:"``) and recalls the entries most similar to the latest message.
It needs no server and no Django. When the ``sqlite-vec`` extension can be loaded
(``pip install sqlite-vec`` and a Python whose ``sqlite3`` allows extensions) distances
are computed inside SQLite; otherwise in Python, which suits stores of a few thousand
entries. Embeddings come from any OpenAI-compatible ``/embeddings`` endpoint through
:class:`OpenAIEmbeddingClient`.
"""

from __future__ import annotations

import abc
import asyncio
import json
import math
import sqlite3
import struct
import threading
from collections.abc import Sequence
from typing import Any

from runtime.cancellation import CancellationToken
from runtime.components.component import Component
from runtime.errors import ConfigurationError
from runtime.images import Image
from runtime.llm import UserMessage
from runtime.memory import (
    Memory,
    MemoryContent,
    MemoryMimeType,
    MemoryQueryResult,
    UpdateContextResult,
    recall_message,
)
from runtime.model_clients.base import resolve_api_key
from runtime.model_clients.retry import RetryPolicy, TokenScope, call_with_retries
from runtime.model_context import ChatCompletionContext
from runtime.network import NetworkGuard

__all__ = ["EmbeddingClient", "OpenAIEmbeddingClient", "SQLiteVectorMemory"]


class EmbeddingClient(Component, abc.ABC):
    """Turns texts into vectors."""

    @abc.abstractmethod
    async def embed(
        self, texts: Sequence[str], cancellation_token: CancellationToken | None = None
    ) -> list[list[float]]:
        """One vector per text, in order."""

    async def close(self) -> None:
        return None


class OpenAIEmbeddingClient(EmbeddingClient):
    """Embeddings from OpenAI or a compatible server (Ollama, vLLM, LM Studio, ...)."""

    component_provider = "roundtable.memory.OpenAIEmbeddingClient"

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
        network_guard: NetworkGuard | None = None,
    ) -> None:
        import openai  # the SDK is heavy: imported when a client is made

        from runtime.model_clients.openai import classify_openai_error

        if not model:
            raise ConfigurationError("OpenAIEmbeddingClient needs a model name")
        self._model = model
        self._api_key = api_key
        self._base_url = base_url
        self._classify = classify_openai_error
        self._retry = RetryPolicy(max_retries=max_retries, backoff=0.5)
        self._client = openai.AsyncOpenAI(
            api_key=resolve_api_key(
                api_key, base_url, env_var="OPENAI_API_KEY", client="OpenAIEmbeddingClient"
            ),
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
            http_client=network_guard.async_http_client(timeout=timeout) if network_guard else None,
        )

    @property
    def model(self) -> str:
        return self._model

    @property
    def api_key(self) -> str | None:
        return self._api_key

    @property
    def base_url(self) -> str | None:
        return self._base_url

    async def embed(
        self, texts: Sequence[str], cancellation_token: CancellationToken | None = None
    ) -> list[list[float]]:
        async def attempt() -> Any:
            return await self._client.embeddings.create(model=self._model, input=list(texts))

        response = await call_with_retries(
            attempt,
            policy=self._retry,
            classify=self._classify,
            provider="openai",
            scope=TokenScope(cancellation_token),
        )
        ordered = sorted(response.data, key=lambda item: item.index)
        return [list(item.embedding) for item in ordered]

    async def close(self) -> None:
        await self._client.close()


def _pack(vector: Sequence[float]) -> bytes:
    return struct.pack(f"{len(vector)}f", *vector)


def _unpack(blob: bytes) -> list[float]:
    return list(struct.unpack(f"{len(blob) // 4}f", blob))


def _cosine_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def _load_vec_extension(connection: sqlite3.Connection) -> bool:
    """Load sqlite-vec when the package and this Python's sqlite3 allow it."""
    try:
        import sqlite_vec  # type: ignore[import-not-found]  # optional
    except ImportError:
        return False
    if not hasattr(connection, "enable_load_extension"):
        return False
    try:
        connection.enable_load_extension(True)
        sqlite_vec.load(connection)
        connection.enable_load_extension(False)
    except sqlite3.Error:
        return False
    return True


class SQLiteVectorMemory(Memory):
    """Entries and their embeddings in SQLite; recalls the ``k`` entries most similar
    (cosine similarity at least ``score_threshold``) to the context's latest message.

    ``path`` is a database file (created when missing) or ``":memory:"``; several
    memories may share a file under different ``collection_name`` values. Only text and
    JSON entries are embedded; images are refused.
    """

    component_provider = "roundtable.memory.SQLiteVectorMemory"

    def __init__(
        self,
        embedding_client: EmbeddingClient,
        *,
        path: str = ":memory:",
        collection_name: str = "memory",
        k: int = 3,
        score_threshold: float = 0.0,
    ) -> None:
        if not isinstance(embedding_client, EmbeddingClient):
            raise ConfigurationError("SQLiteVectorMemory needs an EmbeddingClient")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigurationError(f"k must be a positive integer, got {k!r}")
        self._embedder = embedding_client
        self._path = path
        self._collection = collection_name
        self._k = k
        self._score_threshold = score_threshold
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(path, check_same_thread=False)
        self._has_vec = _load_vec_extension(self._connection)
        with self._connection:
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS memory_entries (id INTEGER PRIMARY KEY, "
                "collection TEXT NOT NULL, content TEXT NOT NULL, mime_type TEXT NOT NULL, "
                "metadata TEXT, embedding BLOB NOT NULL)"
            )
            self._connection.execute(
                "CREATE INDEX IF NOT EXISTS memory_entries_collection "
                "ON memory_entries (collection)"
            )

    @property
    def embedding_client(self) -> EmbeddingClient:
        return self._embedder

    @property
    def path(self) -> str:
        return self._path

    @property
    def collection_name(self) -> str:
        return self._collection

    @property
    def k(self) -> int:
        return self._k

    @property
    def score_threshold(self) -> float:
        return self._score_threshold

    @property
    def uses_sqlite_vec(self) -> bool:
        """Whether distances are computed by the sqlite-vec extension."""
        return self._has_vec

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        def work() -> list[tuple[Any, ...]]:
            with self._lock, self._connection:
                return self._connection.execute(sql, params).fetchall()

        return await asyncio.to_thread(work)

    async def add(
        self, content: MemoryContent, cancellation_token: CancellationToken | None = None
    ) -> None:
        if isinstance(content.content, Image):
            raise ConfigurationError("SQLiteVectorMemory keeps text and JSON, not images")
        (vector,) = await self._embedder.embed([content.to_text()], cancellation_token)
        stored = (
            content.content if isinstance(content.content, str) else json.dumps(content.content)
        )
        metadata = json.dumps(dict(content.metadata)) if content.metadata is not None else None
        await self._run(
            "INSERT INTO memory_entries (collection, content, mime_type, metadata, embedding) "
            "VALUES (?, ?, ?, ?, ?)",
            (self._collection, stored, content.mime, metadata, _pack(vector)),
        )

    async def query(
        self,
        query: str | MemoryContent,
        cancellation_token: CancellationToken | None = None,
        **kwargs: Any,
    ) -> MemoryQueryResult:
        text = query if isinstance(query, str) else query.to_text()
        if not text.strip():
            return MemoryQueryResult()
        (vector,) = await self._embedder.embed([text], cancellation_token)
        k = int(kwargs.get("k", self._k))
        if self._has_vec:
            rows = await self._run(
                "SELECT content, mime_type, metadata, 1 - vec_distance_cosine(embedding, ?) "
                "AS score FROM memory_entries WHERE collection = ? ORDER BY score DESC LIMIT ?",
                (_pack(vector), self._collection, k),
            )
        else:
            stored = await self._run(
                "SELECT content, mime_type, metadata, embedding FROM memory_entries "
                "WHERE collection = ? ORDER BY id",
                (self._collection,),
            )
            scored = [(*row[:3], _cosine_similarity(vector, _unpack(row[3]))) for row in stored]
            rows = sorted(scored, key=lambda row: row[3], reverse=True)[:k]
        return MemoryQueryResult(
            tuple(
                _entry(content, mime, metadata, score)
                for content, mime, metadata, score in rows
                if score >= self._score_threshold
            )
        )

    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        messages = await model_context.get_messages()
        last = messages[-1] if messages else None
        if not isinstance(last, UserMessage):
            return UpdateContextResult(MemoryQueryResult())
        text = (
            last.content
            if isinstance(last.content, str)
            else " ".join(part for part in last.content if isinstance(part, str))
        )
        found = await self.query(text)
        if found.results:
            await model_context.add_message(
                recall_message("Relevant memory content:", found.results)
            )
        return UpdateContextResult(found)

    async def clear(self) -> None:
        await self._run("DELETE FROM memory_entries WHERE collection = ?", (self._collection,))

    async def close(self) -> None:
        self._connection.close()


def _entry(content: str, mime: str, metadata: str | None, score: float) -> MemoryContent:
    details: dict[str, Any] = json.loads(metadata) if metadata else {}
    details["score"] = round(float(score), 6)
    value: str | dict[str, Any] = content
    if mime == MemoryMimeType.JSON.value:
        value = json.loads(content)
    known = {kind.value: kind for kind in MemoryMimeType}
    return MemoryContent(content=value, mime_type=known.get(mime, mime), metadata=details)
