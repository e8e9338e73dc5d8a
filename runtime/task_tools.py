"""Agents and teams as tools: another agent's model can hand them a task.

:class:`AgentTool` and :class:`TeamTool` take one argument, ``task``, run the agent or
team on it, and answer with what was said (``"source: text"`` per message, or only the
last message). While they run, their messages and events stream out of the calling
agent's turn, so observers see the inner work live.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from contextlib import aclosing

from runtime.agents.base import BaseChatAgent
from runtime.cancellation import CancellationToken
from runtime.errors import ConfigurationError, ToolError
from runtime.messages import BaseAgentEvent, BaseChatMessage, TaskResult
from runtime.teams.base import BaseGroupChat
from runtime.tools import FunctionTool

__all__ = ["AgentTool", "TeamTool"]

InnerItem = BaseAgentEvent | BaseChatMessage

#: Where a running task tool sends the items of its inner run (set by the calling agent).
_inner_items: contextvars.ContextVar[Callable[[InnerItem], None] | None] = contextvars.ContextVar(
    "runtime_task_tool_items", default=None
)


def set_item_receiver(
    receiver: Callable[[InnerItem], None] | None,
) -> contextvars.Token[Callable[[InnerItem], None] | None]:
    """Send the inner items of task tools run in this context to ``receiver``."""
    return _inner_items.set(receiver)


def reset_item_receiver(token: contextvars.Token[Callable[[InnerItem], None] | None]) -> None:
    _inner_items.reset(token)


class TaskRunnerTool(FunctionTool):
    """A tool that runs an agent or a team on the ``task`` the model gives it."""

    def __init__(
        self,
        runner: BaseChatAgent | BaseGroupChat,
        *,
        name: str,
        description: str,
        return_value_as_last_message: bool,
    ) -> None:
        self._runner = runner
        self._return_value_as_last_message = return_value_as_last_message
        super().__init__(self._run_task, description, name)

    @property
    def return_value_as_last_message(self) -> bool:
        """Answer with the last message only, instead of every message with its source."""
        return self._return_value_as_last_message

    async def _run_task(self, task: str, cancellation_token: CancellationToken) -> str:
        """Run the task.

        Args:
            task: The task to be executed.
        """
        receiver = _inner_items.get()
        result: TaskResult | None = None
        stream = self._runner.run_stream(
            task=task, cancellation_token=cancellation_token, output_task_messages=False
        )
        async with aclosing(stream) as items:
            async for item in items:
                if isinstance(item, TaskResult):
                    result = item
                elif receiver is not None and isinstance(item, BaseAgentEvent | BaseChatMessage):
                    receiver(item)
        if result is None:
            raise ToolError(f"tool {self.name!r}: the run ended without a result")
        return self._answer(result)

    def _answer(self, result: TaskResult) -> str:
        if self._return_value_as_last_message:
            last = result.messages[-1] if result.messages else None
            if not isinstance(last, BaseChatMessage):
                raise ToolError(f"tool {self.name!r}: the run's last item is not a chat message")
            return last.to_model_text()
        return "\n\n".join(
            f"{message.source}: {message.to_model_text()}"
            for message in result.messages
            if isinstance(message, BaseChatMessage) and message.source != "user"
        )


class AgentTool(TaskRunnerTool):
    """An agent as a tool named after it, described by its description."""

    def __init__(self, agent: BaseChatAgent, return_value_as_last_message: bool = False) -> None:
        if not isinstance(agent, BaseChatAgent):
            raise ConfigurationError(f"AgentTool needs an agent, got {type(agent).__name__}")
        super().__init__(
            agent,
            name=agent.name,
            description=agent.description,
            return_value_as_last_message=return_value_as_last_message,
        )
        self._agent = agent

    @property
    def agent(self) -> BaseChatAgent:
        """The agent that does the task."""
        return self._agent


class TeamTool(TaskRunnerTool):
    """A team as a tool; the team keeps its conversation between calls."""

    def __init__(
        self,
        team: BaseGroupChat,
        name: str,
        description: str,
        return_value_as_last_message: bool = False,
    ) -> None:
        if not isinstance(team, BaseGroupChat):
            raise ConfigurationError(f"TeamTool needs a team, got {type(team).__name__}")
        super().__init__(
            team,
            name=name,
            description=description,
            return_value_as_last_message=return_value_as_last_message,
        )
        self._team = team

    @property
    def team(self) -> BaseGroupChat:
        """The team that does the task."""
        return self._team
