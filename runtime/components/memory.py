"""Component kinds of memories and embedding clients.

A vector memory's file comes from the component only as a bare file name (created in
the working directory) or ``":memory:"``: a file never names a path elsewhere.
"""

from __future__ import annotations

import re
from typing import Any

from runtime.components.registry import (
    MASKED_SECRET,
    ComponentKind,
    ConfigReader,
    ConfigWriter,
    compact,
)
from runtime.memory import ListMemory, MemoryContent
from runtime.vector_memory import OpenAIEmbeddingClient, SQLiteVectorMemory

# Internal: these kinds reach users through ComponentRegistry.default().
__all__: list[str] = []

_FILE_NAME = re.compile(r"^[\w.-]{1,100}$")


def _load_list_memory(reader: ConfigReader) -> ListMemory:
    contents = []
    for index, item in enumerate(reader.items("memory_contents")):
        if not isinstance(item, dict):
            raise reader.error("a memory entry must be an object", f"memory_contents[{index}]")
        contents.append(MemoryContent.from_dict(item))
    return ListMemory(name=reader.text("name", None), memory_contents=contents)


def _dump_list_memory(memory: ListMemory, writer: ConfigWriter) -> dict[str, Any]:
    return {"name": memory.name, "memory_contents": [item.to_dict() for item in memory.content]}


def _load_embedding_client(reader: ConfigReader) -> OpenAIEmbeddingClient:
    key = reader.api_key or reader.text("api_key", None)
    return OpenAIEmbeddingClient(
        reader.text("model"),
        api_key=None if key in (None, "", MASKED_SECRET) else key,
        base_url=reader.text("base_url", None),
        timeout=reader.number("timeout", 60.0),
        max_retries=reader.integer("max_retries", 4),
    )


def _dump_embedding_client(client: OpenAIEmbeddingClient, writer: ConfigWriter) -> dict[str, Any]:
    return compact(
        {
            "model": client.model,
            "base_url": client.base_url,
            "api_key": client.api_key if writer.include_secrets else None,
        }
    )


def _load_vector_memory(reader: ConfigReader) -> SQLiteVectorMemory:
    path = reader.text("path", ":memory:")
    if path != ":memory:" and not (_FILE_NAME.match(path) and path not in (".", "..")):
        raise reader.error("path must be ':memory:' or a bare file name", "path")
    return SQLiteVectorMemory(
        reader.component("embedding_client", "embedding"),
        path=path,
        collection_name=reader.text("collection_name", "memory"),
        k=reader.integer("k", 3),
        score_threshold=reader.number("score_threshold", 0.0),
    )


def _dump_vector_memory(memory: SQLiteVectorMemory, writer: ConfigWriter) -> dict[str, Any]:
    return {
        "embedding_client": writer.component(memory.embedding_client),
        "path": memory.path,
        "collection_name": memory.collection_name,
        "k": memory.k,
        "score_threshold": memory.score_threshold,
    }


def kinds() -> list[ComponentKind]:
    """The built-in kinds of this module."""
    return [
        ComponentKind(
            "autogen_core.memory.ListMemory",
            ListMemory,
            "memory",
            _load_list_memory,
            _dump_list_memory,
            aliases=("ListMemory",),
            description="Recalls every entry it holds, oldest first.",
        ),
        ComponentKind(
            SQLiteVectorMemory.component_provider,
            SQLiteVectorMemory,
            "memory",
            _load_vector_memory,
            _dump_vector_memory,
            description="Recalls the entries closest in meaning, from an SQLite file.",
        ),
        ComponentKind(
            OpenAIEmbeddingClient.component_provider,
            OpenAIEmbeddingClient,
            "embedding",
            _load_embedding_client,
            _dump_embedding_client,
            component_type="embedding_client",
            description="Embeddings from an OpenAI-compatible /embeddings endpoint.",
        ),
    ]
