"""A whole team acting as one participant (AutoGen's SocietyOfMindAgent, nested chats)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from types import MappingProxyType
from typing import Any

from runtime.agents.base import BaseChatAgent, Response
from runtime.agents.encoded_context import EncodedContext
from runtime.cancellation import CancellationToken
from runtime.errors import ConfigurationError, ModelResponseError, StateError
from runtime.llm import (
    AssistantMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
    load_llm_message,
)
from runtime.messages import (
    BaseChatMessage,
    BaseMessage,
    TaskResult,
    TextMessage,
)
from runtime.model_clients.base import ChatCompletionClient, load_client_state
from runtime.model_context import ChatCompletionContext, UnboundedChatCompletionContext
from runtime.teams.base import STATE_VERSION as TEAM_STATE_VERSION
from runtime.teams.base import BaseGroupChat, TeamStatus

__all__ = ["SocietyOfMindAgent"]

DEFAULT_DESCRIPTION = (
    "An agent that answers after its own team of agents has worked on the request."
)
DEFAULT_INSTRUCTION = (
    "You speak for a team. The team was given a request and worked on it together; "
    "the request and the team's discussion follow."
)
DEFAULT_RESPONSE_PROMPT = (
    "Write the final answer to the request as one standalone reply, "
    "without mentioning the team or its discussion."
)
NO_RESPONSE = "No response."
STATE_TYPE = "SocietyOfMindAgentState"
STATE_VERSION = "1.0.0"


class SocietyOfMindAgent(BaseChatAgent):
    """Runs an inner team on the messages it receives, then answers for the team.

    The inner team's messages and events stream out as they happen (their sources are
    the inner agents). The answer is written by ``model_client`` from the request and
    the inner discussion, or, without a model client, it is the inner team's last chat
    message. The inner team is reset after every turn; this agent remembers the
    conversation around it (what it was told and what it answered) and gives that to
    the inner team as a first message on later turns.
    """

    component_provider = "autogen_agentchat.agents.SocietyOfMindAgent"
    produced_message_types = (TextMessage,)

    def __init__(
        self,
        name: str,
        team: BaseGroupChat,
        model_client: ChatCompletionClient | None = None,
        *,
        description: str = DEFAULT_DESCRIPTION,
        instruction: str = DEFAULT_INSTRUCTION,
        response_prompt: str = DEFAULT_RESPONSE_PROMPT,
        model_context: ChatCompletionContext | None = None,
    ) -> None:
        super().__init__(name, description)
        if not isinstance(team, BaseGroupChat):
            raise ConfigurationError(
                f"agent {name!r}: team must be a team (RoundRobinGroupChat, ...), "
                f"got {type(team).__name__}"
            )
        if model_client is not None and not isinstance(model_client, ChatCompletionClient):
            raise ConfigurationError(
                f"agent {name!r}: model_client must be a ChatCompletionClient or None"
            )
        self._team = team
        self._model_client = model_client
        self._instruction = instruction
        self._response_prompt = response_prompt
        model = model_client.model if model_client is not None else ""
        self._usage_metadata: Mapping[str, str] = MappingProxyType(
            {"model": model} if model else {}
        )
        if model_context is not None and not isinstance(model_context, ChatCompletionContext):
            raise ConfigurationError(
                f"agent {name!r}: model_context must be a ChatCompletionContext or None"
            )
        self._model_context = model_context or UnboundedChatCompletionContext()
        self._encoded_context = EncodedContext()

    @property
    def team(self) -> BaseGroupChat:
        """The inner team."""
        return self._team

    @property
    def model_client(self) -> ChatCompletionClient | None:
        """The client that writes the answer (``None``: the team's last message is it)."""
        return self._model_client

    @property
    def instruction(self) -> str:
        """Put before the request and the team's discussion in the answer call."""
        return self._instruction

    @property
    def response_prompt(self) -> str:
        """Put after the discussion in the answer call: what to write."""
        return self._response_prompt

    @property
    def model_context(self) -> ChatCompletionContext:
        """The remembered conversation around this agent (what it is told and says)."""
        return self._model_context

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        """Run the inner team (streaming its items), answer, then reset the inner team."""
        task: list[BaseChatMessage] = list(messages)
        earlier = self._render_context(await self._model_context.get_messages())
        if earlier:
            task.insert(0, TextMessage(content=earlier, source=self.name))
        said: list[BaseChatMessage] = []
        try:
            async with aclosing(
                self._team.run_stream(
                    task or None, cancellation_token=cancellation_token, output_task_messages=False
                )
            ) as inner:
                async for item in inner:
                    if isinstance(item, TaskResult):
                        continue
                    if isinstance(item, BaseChatMessage):
                        said.append(item)
                    yield item
            answer = await self._answer(task, said, cancellation_token)
        finally:
            if self._team.status is TeamStatus.IDLE:
                await self._team.reset()
        for message in messages:
            await self._model_context.add_message(message.to_model_message())
        await self._model_context.add_message(
            AssistantMessage(content=answer.content, source=self.name)
        )
        # The inner items were streamed already; they are not this agent's own events, so
        # an outer team's termination condition does not see them twice.
        yield Response(chat_message=answer)

    async def _answer(
        self,
        task: list[BaseChatMessage],
        said: list[BaseChatMessage],
        cancellation_token: CancellationToken,
    ) -> TextMessage:
        if not said:
            return TextMessage(content=NO_RESPONSE, source=self.name)
        client = self._model_client
        if client is None:
            return TextMessage(content=said[-1].to_model_text(), source=self.name)
        as_system = bool(client.model_info.get("multiple_system_messages", False))
        request: list[LLMMessage] = [self._framing(self._instruction, as_system)]
        request.extend(message.to_model_message() for message in task)
        request.extend(message.to_model_message() for message in said)
        request.append(self._framing(self._response_prompt, as_system))
        result = await client.create(request, cancellation_token=cancellation_token)
        if not isinstance(result.content, str):
            raise ModelResponseError(
                f"agent {self.name!r}: the model answered with tool calls; it was asked for text"
            )
        return TextMessage(
            content=result.content,
            source=self.name,
            models_usage=result.usage,
            metadata=self._usage_metadata,
        )

    @staticmethod
    def _framing(text: str, as_system: bool) -> SystemMessage | UserMessage:
        return SystemMessage(text) if as_system else UserMessage(text, "user")

    @staticmethod
    def _render_context(context: Sequence[LLMMessage]) -> str:
        lines: list[str] = []
        for message in context:
            if isinstance(message, UserMessage | AssistantMessage) and isinstance(
                message.content, str
            ):
                lines.append(f"{message.source}: {message.content}")
        if not lines:
            return ""
        return "Earlier in this conversation:\n" + "\n".join(lines)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the conversation and reset the inner team."""
        await self._model_context.clear()
        self._encoded_context.clear()
        await self._team.reset()

    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        """Pause the inner team when it is running."""
        if self._team.status is TeamStatus.RUNNING:
            await self._team.pause()

    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        """Resume the inner team when it is paused."""
        if self._team.status is TeamStatus.PAUSED:
            await self._team.resume()

    async def save_state(self) -> dict[str, Any]:
        """The inner team's state and the remembered conversation, as JSON data.

        Entries saved before are handed out again as the same dicts (each is dumped
        once), so treat the returned dicts as read-only.
        """
        state: dict[str, Any] = {
            "type": STATE_TYPE,
            "version": STATE_VERSION,
            "inner_team_state": await self._team.save_state(),
            "llm_context": {"messages": self._encoded_context.dump(self._model_context._messages)},
        }
        client_state = self._model_client.save_state() if self._model_client else {}
        if client_state:
            state["model_client"] = client_state
        return state

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`save_state` data.

        AutoGen's state of this agent loads too: its inner team state (always a reset team
        between turns) is skipped, as it is in another format.
        """
        kind = state.get("type", STATE_TYPE)
        if kind != STATE_TYPE:
            raise StateError(f"agent {self.name!r}: expected {STATE_TYPE} state, got {kind!r}")
        inner = state.get("inner_team_state")
        if isinstance(inner, Mapping) and inner.get("version") == TEAM_STATE_VERSION:
            await self._team.load_state(inner)
        llm_context = state.get("llm_context") or {}
        try:
            messages = [load_llm_message(data) for data in llm_context.get("messages") or ()]
        except (ConfigurationError, KeyError, TypeError, AttributeError) as exc:
            raise StateError(f"agent {self.name!r}: unreadable llm_context: {exc}") from exc
        if self._model_client is not None:
            load_client_state(f"agent {self.name!r}", self._model_client, state)
        self._model_context._messages = messages
        self._encoded_context.clear()

    async def close(self) -> None:
        """Close the inner team."""
        await self._team.close()
