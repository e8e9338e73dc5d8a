"""The group-chat loop every team shares, and the team lifecycle.

A team is a direct asyncio loop over one shared *thread* of chat messages. Each
participant only keeps an index into that thread (how far it has read), so handing an
agent "the messages it has not seen yet" is a slice: no per-agent buffers, no message
bus, no task per message. Every delta (task messages, interjections, each turn's events
and chat message) goes to the termination condition as it happens.

Subclasses decide who speaks next (:meth:`BaseGroupChat._next_speakers`) and what a
finished turn changes (:meth:`BaseGroupChat._after_turn`); everything else, including
cancellation, timeouts, state and the sink, lives here.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import time
from collections import deque
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from typing import Any

from runtime.agents.base import BaseChatAgent, Response, normalize_task
from runtime.agents.encoded_context import copy_dicts
from runtime.cancellation import CancellationToken
from runtime.components.component import Component
from runtime.conditions import TerminationCondition
from runtime.errors import ConfigurationError, StateError, TeamError
from runtime.messages import (
    BaseChatMessage,
    BaseMessage,
    ModelClientStreamingChunkEvent,
    SelectSpeakerEvent,
    TaskResult,
    TextMessage,
    is_structured_type,
)
from runtime.sink import EventSink
from runtime.teams.checkpoint import (
    ThreadArchive,
    decode_message,
    decode_message_dump,
    unpack_agent_state,
)
from runtime.teams.run_control import DeadlineReached, RunControl

__all__ = ["BaseGroupChat", "TeamStatus"]

#: producer id of messages that no participant said (task messages, interjections)
OUTSIDE = -1

STATE_VERSION = "2.0.0"


class TeamStatus(enum.Enum):
    """Where a team is in its life; see :data:`TRANSITIONS` for the allowed moves."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    CLOSED = "closed"


TRANSITIONS: dict[TeamStatus, frozenset[TeamStatus]] = {
    TeamStatus.IDLE: frozenset({TeamStatus.RUNNING, TeamStatus.CLOSED}),
    TeamStatus.RUNNING: frozenset({TeamStatus.IDLE, TeamStatus.PAUSED}),
    TeamStatus.PAUSED: frozenset({TeamStatus.RUNNING, TeamStatus.IDLE}),
    TeamStatus.CLOSED: frozenset(),
}


class _TurnEnd:
    """A parallel speaker's stream ended with this final item."""

    __slots__ = ("final",)

    def __init__(self, final: Response | TaskResult | None) -> None:
        self.final = final


class Seat:
    """A participant's place at the table: who it is and how far it has read the thread."""

    __slots__ = ("index", "is_team", "member", "name", "read", "saved")

    def __init__(self, index: int, member: BaseChatAgent | BaseGroupChat) -> None:
        self.index = index
        self.member = member
        self.name = member.name
        self.is_team = isinstance(member, BaseGroupChat)
        self.read = 0
        #: the seat's entry in the team's last shared save
        self.saved: dict[str, Any] | None = None

    def entry(self, state: dict[str, Any], *, shared: bool) -> dict[str, Any]:
        """The seat's entry in a saved team state: how far it read, and ``state``.

        A shared save whose member state is the very object of the previous shared save
        (an unchanged member) and whose read mark did not move gets the previous entry,
        the same object.
        """
        saved = self.saved
        if shared and saved is not None and saved["state"] is state and saved["read"] == self.read:
            return saved
        entry = {"read": self.read, "state": state}
        if shared:
            self.saved = entry
        return entry

    def stream(
        self, messages: list[BaseChatMessage], token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response | TaskResult, None]:
        """The participant's turn as a stream of items ending in a Response or TaskResult."""
        if isinstance(self.member, BaseGroupChat):
            return self.member.run_stream(
                task=messages or None, cancellation_token=token, output_task_messages=False
            )
        return self.member.on_messages_stream(messages, token)


def check_participants(
    participants: Sequence[BaseChatAgent | BaseGroupChat], *, allow_teams: bool, kind: str
) -> list[BaseChatAgent | BaseGroupChat]:
    members = list(participants)
    if not members:
        raise ConfigurationError(f"{kind} needs at least one participant")
    names: set[str] = set()
    for member in members:
        is_team = isinstance(member, BaseGroupChat)
        if not isinstance(member, BaseChatAgent) and not is_team:
            raise ConfigurationError(
                f"{kind} participants must be agents or teams, got {type(member).__name__}"
            )
        if is_team and not allow_teams:
            raise ConfigurationError(f"{kind} participants must be agents, not teams")
        if member.name in names:
            raise ConfigurationError(f"participant names must be unique: {member.name!r} repeats")
        names.add(member.name)
    return members


def _message_types(
    members: Sequence[BaseChatAgent | BaseGroupChat], custom: Sequence[type[BaseMessage]]
) -> dict[str, type[BaseMessage]]:
    """Message classes by ``type``: the custom ones and the structured messages that
    participants say (AutoGen registers those too)."""
    types: dict[str, type[BaseMessage]] = {}
    for cls in custom:
        if not (isinstance(cls, type) and issubclass(cls, BaseMessage)):
            raise ConfigurationError(f"custom_message_types must be message classes, got {cls!r}")
        types[cls.type] = cls
    for member in members:
        if isinstance(member, BaseGroupChat):
            types.update(member._message_types)
            continue
        for cls in member.produced_message_types:
            if is_structured_type(cls):
                types[cls.type] = cls
    return types


class BaseGroupChat(Component, abc.ABC):
    """A team: participants taking turns on one shared thread until a condition stops them.

    ``run(task)`` / ``run_stream(task)`` end in a :class:`TaskResult`. Calling them again
    continues the conversation; :meth:`reset` forgets it. Only one run at a time
    (otherwise :class:`TeamError`). An agent's exception leaves the run with its original
    type; the team stays usable. Cancelling the token or closing the stream stops the run
    and leaves the team consistent: the interrupted speaker speaks again next run.
    """

    #: Who speaker picks come from, as AutoGen's group chat manager names itself.
    manager_name = "GroupChatManager"

    component_provider: str = ""
    allows_team_participants = True

    def __init__(
        self,
        participants: Sequence[BaseChatAgent | BaseGroupChat],
        *,
        name: str | None = None,
        description: str | None = None,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        emit_team_events: bool = False,
        custom_message_types: Sequence[type[BaseMessage]] | None = None,
    ) -> None:
        kind = type(self).__name__
        members = check_participants(
            participants, allow_teams=self.allows_team_participants, kind=kind
        )
        if max_turns is not None and max_turns < 1:
            raise ConfigurationError("max_turns must be at least 1 (or None for no limit)")
        self._name = name or kind
        self._description = description or "A team of agents."
        self._termination_condition = termination_condition
        self._max_turns = max_turns
        self._emit_team_events = emit_team_events
        self._seats = [Seat(index, member) for index, member in enumerate(members)]
        self._seat_by_name = {seat.name: seat for seat in self._seats}
        self._custom_message_types = tuple(custom_message_types or ())
        self._message_types = _message_types(members, self._custom_message_types)
        self._thread: list[BaseChatMessage] = []
        self._producers: list[int] = []
        self._archive = ThreadArchive()
        self._turn = 0
        self._interjections: deque[BaseChatMessage] = deque()
        self._status = TeamStatus.IDLE
        self._resumed = asyncio.Event()

    # -- configuration, readable as constructed ------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    @property
    def participants(self) -> list[BaseChatAgent | BaseGroupChat]:
        return [seat.member for seat in self._seats]

    @property
    def termination_condition(self) -> TerminationCondition | None:
        return self._termination_condition

    @property
    def max_turns(self) -> int | None:
        return self._max_turns

    @property
    def emit_team_events(self) -> bool:
        return self._emit_team_events

    @property
    def custom_message_types(self) -> list[type[BaseMessage]]:
        """Message classes beyond the built-in ones that this team's state may hold."""
        return list(self._custom_message_types)

    @property
    def status(self) -> TeamStatus:
        """The lifecycle state: idle, running, paused or closed."""
        return self._status

    @property
    def thread(self) -> tuple[BaseChatMessage, ...]:
        """Every chat message of the conversation so far, in order."""
        return tuple(self._thread)

    # -- lifecycle ------------------------------------------------------------------------

    def _move_to(self, status: TeamStatus) -> None:
        if status in TRANSITIONS[self._status]:
            self._status = status
            return
        # Only running and closed teams refuse a move: an idle team may run or close.
        if self._status is TeamStatus.CLOSED:
            raise TeamError(f"team {self._name!r} is closed; build a new team")
        raise TeamError(
            f"team {self._name!r} is already running; wait for the run to end or cancel it"
        )

    def _require_idle(self, action: str) -> None:
        if self._status is not TeamStatus.IDLE:
            raise TeamError(f"cannot {action} team {self._name!r} while it is {self._status.value}")

    async def pause(self) -> None:
        """Pause a running team: every participant's ``on_pause`` is called (running
        nested teams are paused), and no new turn starts until :meth:`resume`.

        The turn in progress finishes. Pausing a team that is not running is a
        :class:`TeamError` (AutoGen waits forever there).
        """
        if self._status is TeamStatus.PAUSED:
            return
        if self._status is not TeamStatus.RUNNING:
            raise TeamError(f"cannot pause team {self._name!r}: it is {self._status.value}")
        self._move_to(TeamStatus.PAUSED)
        self._resumed.clear()
        token = CancellationToken()
        for seat in self._seats:
            if isinstance(seat.member, BaseGroupChat):
                if seat.member.status is TeamStatus.RUNNING:
                    await seat.member.pause()
            else:
                await seat.member.on_pause(token)

    async def resume(self) -> None:
        """Undo :meth:`pause`: participants' ``on_resume`` is called and turns go on."""
        if self._status is not TeamStatus.PAUSED:
            if self._status is TeamStatus.RUNNING:
                return
            raise TeamError(f"cannot resume team {self._name!r}: it is {self._status.value}")
        self._move_to(TeamStatus.RUNNING)
        self._resumed.set()
        token = CancellationToken()
        for seat in self._seats:
            if isinstance(seat.member, BaseGroupChat):
                if seat.member.status is TeamStatus.PAUSED:
                    await seat.member.resume()
            else:
                await seat.member.on_resume(token)

    async def close(self) -> None:
        """Close every participant; the team cannot run afterwards."""
        self._move_to(TeamStatus.CLOSED)
        for seat in self._seats:
            await seat.member.close()

    # -- running --------------------------------------------------------------------------

    def interject(self, message: str | BaseChatMessage) -> None:
        """Queue a chat message (a string is from ``user``) for the next turn boundary.

        It then joins the thread, reaches every participant, the stream, the sink and the
        termination condition, like a task message.
        """
        if isinstance(message, str):
            message = TextMessage(content=message, source="user")
        if not isinstance(message, BaseChatMessage):
            raise ConfigurationError("interject() takes a string or a chat message")
        self._interjections.append(message)

    async def run(
        self,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        *,
        cancellation_token: CancellationToken | None = None,
        sink: EventSink | None = None,
        output_task_messages: bool = True,
    ) -> TaskResult:
        """Run until a stop condition; return every message and event and the stop reason."""
        result: TaskResult | None = None
        async for item in self.run_stream(
            task,
            cancellation_token=cancellation_token,
            sink=sink,
            output_task_messages=output_task_messages,
        ):
            if isinstance(item, TaskResult):
                result = item
        assert result is not None
        return result

    async def run_stream(
        self,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        *,
        cancellation_token: CancellationToken | None = None,
        sink: EventSink | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[BaseMessage | TaskResult, None]:
        """Like :meth:`run`, yielding each message and event live, then the TaskResult.

        Closing the generator early (``break`` / ``aclose()``) stops the run.
        """
        messages = normalize_task(task)
        self._validate_task(messages)
        self._move_to(TeamStatus.RUNNING)
        control = RunControl(cancellation_token or CancellationToken(), sink)
        collected: list[BaseMessage] = []
        try:
            async with aclosing(self._drive(control, messages, output_task_messages)) as items:
                async for item in items:
                    if sink is not None:
                        await sink.emit(item)
                    if not isinstance(item, ModelClientStreamingChunkEvent):
                        collected.append(item)
                    yield item
            yield TaskResult(collected, control.stop_reason)
        finally:
            control.finish()
            self._turn = 0
            self._status = TeamStatus.IDLE
            self._resumed.set()
            if self._termination_condition is not None:
                await self._termination_condition.reset()

    async def _drive(
        self, control: RunControl, task: list[BaseChatMessage], output_task_messages: bool
    ) -> AsyncGenerator[BaseMessage, None]:
        condition = self._termination_condition
        if condition is not None:
            if condition.terminated:
                control.stop_reason = "The group chat has already terminated."
                return
            condition.start()
            control.deadline = condition.deadline
        if task:
            self._append(task, OUTSIDE)
            self._on_task(task)
            if output_task_messages:
                for message in task:
                    yield message
            if await self._should_stop(control, task):
                return
        while True:
            if self._interjections:
                batch = list(self._interjections)
                self._interjections.clear()
                self._append(batch, OUTSIDE)
                for message in batch:
                    yield message
                if await self._should_stop(control, batch):
                    return
            try:
                if self._status is TeamStatus.PAUSED:
                    await control.step(self._resumed.wait())
                speakers = await self._next_speakers(control)
                for event in control.pending_events:
                    yield event
                control.pending_events.clear()
                if isinstance(speakers, str):
                    await self._stop(control, speakers)
                    return
                if self._emit_team_events:
                    yield SelectSpeakerEvent(
                        content=[seat.name for seat in speakers], source=self.manager_name
                    )
                delta: list[BaseMessage] = []
                if len(speakers) == 1:
                    async for item in self._single_turn(control, speakers[0], delta):
                        yield item
                else:
                    async for item in self._parallel_turn(control, speakers, delta):
                        yield item
            except DeadlineReached:
                control.pending_events.clear()
                if await self._should_stop(control, []):
                    return
                if control.deadline is not None and control.deadline <= time.monotonic():
                    control.deadline = None  # a custom deadline that did not fire: drop it
                continue
            self._turn += 1
            routed_stop = self._route_stop()
            is_done = await self._should_stop(control, delta)
            if not is_done and routed_stop is not None:
                await self._stop(control, routed_stop)
                is_done = True
            if not is_done and self._max_turns is not None and self._turn >= self._max_turns:
                await self._stop(control, f"Maximum number of turns {self._max_turns} reached.")
                is_done = True
            if control.sink is not None:
                for seat in speakers:
                    await control.sink.turn_completed(seat.name)
            if is_done:
                return

    async def _single_turn(
        self, control: RunControl, seat: Seat, delta: list[BaseMessage]
    ) -> AsyncGenerator[BaseMessage, None]:
        stream = seat.stream(self._unread(seat), control.token)
        final: Response | TaskResult | None = None
        is_exhausted = False
        try:
            while True:
                try:
                    item = await control.step(stream.__anext__())
                except StopAsyncIteration:
                    is_exhausted = True
                    break
                if isinstance(item, (Response, TaskResult)):
                    final = item
                else:
                    yield item
        except BaseException:
            self._requeue([seat])
            raise
        finally:
            if not is_exhausted:
                await stream.aclose()
        chat = self._finish_turn(seat, final, delta)
        seat.read = len(self._thread)
        if chat is not None:
            yield chat

    async def _parallel_turn(
        self, control: RunControl, seats: list[Seat], delta: list[BaseMessage]
    ) -> AsyncGenerator[BaseMessage, None]:
        queue: asyncio.Queue[tuple[Seat, BaseMessage | BaseException | _TurnEnd]] = asyncio.Queue()
        unread = {seat.index: self._unread(seat) for seat in seats}

        async def speak(seat: Seat) -> None:
            final: Response | TaskResult | None = None
            try:
                async for item in seat.stream(unread[seat.index], control.token):
                    if isinstance(item, (Response, TaskResult)):
                        final = item
                    else:
                        queue.put_nowait((seat, item))
            except BaseException as exc:  # handed to the loop, which re-raises it
                queue.put_nowait((seat, exc))
                if not isinstance(exc, Exception):
                    raise
                return
            queue.put_nowait((seat, _TurnEnd(final)))

        tasks = {seat.index: asyncio.ensure_future(speak(seat)) for seat in seats}
        try:
            while tasks:
                seat, item = await control.step(queue.get())
                if isinstance(item, BaseException):
                    raise item  # its seat stays in ``tasks``, so it is requeued below
                if isinstance(item, _TurnEnd):
                    tasks.pop(seat.index)
                    chat = self._finish_turn(seat, item.final, delta)
                    if chat is not None:
                        yield chat
                else:
                    yield item
        finally:
            for task in tasks.values():
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks.values(), return_exceptions=True)
                self._requeue([seat for seat in seats if seat.index in tasks])

    def _finish_turn(
        self, seat: Seat, final: Response | TaskResult | None, delta: list[BaseMessage]
    ) -> BaseChatMessage | None:
        """Record a finished turn: thread, delta, subclass bookkeeping. Returns the chat
        message still to be yielded (agents) or None (teams already streamed theirs)."""
        if isinstance(final, Response):
            delta.extend(final.inner_messages)
            delta.append(final.chat_message)
            self._append([final.chat_message], seat.index)
            self._after_turn(seat, [final.chat_message])
            return final.chat_message
        if isinstance(final, TaskResult):
            delta.extend(final.messages)
            said = [m for m in final.messages if isinstance(m, BaseChatMessage)]
            self._append(said, seat.index)
            self._after_turn(seat, said)
            return None
        raise TeamError(f"participant {seat.name!r} ended its turn without a response")

    def _append(self, messages: Sequence[BaseChatMessage], producer: int) -> None:
        self._thread.extend(messages)
        self._producers.extend([producer] * len(messages))

    def _unread(self, seat: Seat) -> list[BaseChatMessage]:
        start, end = seat.read, len(self._thread)
        seat.read = end
        if start == end:
            return []
        messages = self._thread[start:end]
        producers = self._producers[start:end]
        if seat.index in producers:
            messages = [m for m, p in zip(messages, producers, strict=True) if p != seat.index]
        return messages

    async def _should_stop(self, control: RunControl, delta: Sequence[BaseMessage]) -> bool:
        condition = self._termination_condition
        if condition is None:
            return False
        stop = await condition(delta)
        if stop is None:
            control.deadline = condition.deadline
            return False
        await self._stop(control, stop.content)
        return True

    async def _stop(self, control: RunControl, reason: str) -> None:
        control.stop_reason = reason
        self._turn = 0
        if self._termination_condition is not None:
            await self._termination_condition.reset()

    # -- what subclasses decide -----------------------------------------------------------

    def _validate_task(self, task: list[BaseChatMessage]) -> None:
        """Reject a task before the run starts (Swarm checks handoff targets)."""
        return None

    def _on_task(self, task: list[BaseChatMessage]) -> None:
        """New task messages joined the thread."""
        return None

    @abc.abstractmethod
    async def _next_speakers(self, control: RunControl) -> list[Seat] | str:
        """Who speaks next, or the stop reason when nobody should.

        Events to show before the turn (selector output) go to ``control.pending_events``;
        slow awaits go through ``control.step``.
        """

    def _after_turn(self, seat: Seat, said: list[BaseChatMessage]) -> None:
        """``seat`` finished a turn in which it said ``said`` (already in the thread)."""
        return None

    def _route_stop(self) -> str | None:
        """A stop reason the routing found after a turn (checked after the condition)."""
        return None

    def _requeue(self, seats: list[Seat]) -> None:
        """Speakers whose turn was interrupted; they should speak again next."""
        return None

    async def _reset_manager(self) -> None:
        """Forget who spoke and who is next."""
        return None

    def _save_manager(self) -> dict[str, Any]:
        return {}

    def _load_manager(self, state: Mapping[str, Any]) -> None:
        return None

    # -- reset and state ------------------------------------------------------------------

    async def reset(self) -> None:
        """Forget the conversation: thread, every participant's state, counters, speaker."""
        self._require_idle("reset")
        token = CancellationToken()
        for seat in self._seats:
            seat.read = 0
            if isinstance(seat.member, BaseGroupChat):
                await seat.member.reset()
            else:
                await seat.member.on_reset(token)
        self._thread.clear()
        self._producers.clear()
        self._archive.clear()
        self._interjections.clear()
        self._turn = 0
        if self._termination_condition is not None:
            await self._termination_condition.reset()
        await self._reset_manager()

    async def save_state(self, *, shared: bool = False) -> dict[str, Any]:
        """The conversation as JSON data: the thread once, and per participant its own
        state and how far it has read; plus the next speaker and condition counters.

        Built to be called after every turn: its cost follows what changed since the
        previous save, not the length of the conversation. Every list in the result is
        new (change them freely), but thread rows and model-context entries saved before
        are the same objects as in the previous result, so an unchanged prefix can be
        told by identity (``old[i] is new[i]``). Treat those rows and entries, and the
        dicts inside them, as read-only: copy one before changing it.

        With ``shared`` the long lists (the thread, its producers, the agents' packed
        model contexts, here and in nested teams) are not copied: they are the team's
        own, which it only ever appends to and replaces by a new list when a history
        changes otherwise. Their first ``len()`` items never change, so a caller that
        noted a list's length can take just what was appended since, in O(1) per list.
        Never change such a list, and note its length before the team runs on. A
        participant that did not change since the previous shared save (an agent that
        hands out its unchanged save again, as an AssistantAgent that did not speak
        does) gets the entry of that save again, the same dict: a caller that kept the
        previous save tells it unchanged by identity, without looking inside. No other
        dict is given again (the dicts of other agents, the manager and the termination
        condition are copied), and no dict of a shared save is ever changed.
        """
        archive = self._archive
        rows, producers = archive.update(self._thread, self._producers, shared=shared)
        members: dict[str, Any] = {}
        for seat in self._seats:
            member = seat.member
            if isinstance(member, BaseGroupChat):
                state = await member.save_state(shared=shared)
            else:
                state = await archive.save_agent_state(seat.name, member.save_state, shared=shared)
            members[seat.name] = seat.entry(state, shared=shared)
        condition = self._termination_condition
        manager = self._save_manager()
        termination = condition.save_state() if condition is not None else None
        if shared:  # dicts their makers may keep and change: the save's are its own
            manager, termination = copy_dicts(manager), copy_dicts(termination)
        return {
            "type": "TeamState",
            "version": STATE_VERSION,
            "team": type(self).__name__,
            "thread": rows,
            "producers": producers,
            "participants": members,
            "turn": self._turn,
            "manager": manager,
            "termination": termination,
            "interjections": [m.dump() for m in self._interjections],
        }

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`save_state` data (participants matched by name)."""
        self._require_idle("load state into")
        if state.get("type") != "TeamState" or state.get("version") != STATE_VERSION:
            raise StateError(
                f"not a saved {type(self).__name__} state (type {state.get('type')!r}, "
                f"version {state.get('version')!r}); save it with this version's save_state()"
            )
        if state.get("team") != type(self).__name__:
            raise StateError(
                f"state was saved by a {state.get('team')}, not a {type(self).__name__}"
            )
        thread = [decode_message(row, self._message_types) for row in state.get("thread") or ()]
        producers = [int(p) for p in state.get("producers") or ()]
        if len(producers) != len(thread):
            raise StateError("saved state is inconsistent: producers and thread differ in length")
        members = state.get("participants") or {}
        missing = [seat.name for seat in self._seats if seat.name not in members]
        if missing:
            raise StateError(f"saved state has no entry for participant(s) {missing}")
        for seat in self._seats:
            entry = members[seat.name]
            if isinstance(seat.member, BaseGroupChat):
                await seat.member.load_state(entry["state"])
            else:
                await seat.member.load_state(unpack_agent_state(entry["state"], thread))
            seat.read = min(int(entry.get("read", 0)), len(thread))
        self._thread = thread
        self._producers = producers
        self._archive.clear()
        self._turn = int(state.get("turn", 0))
        self._interjections = deque(
            decode_message_dump(item, self._message_types)
            for item in state.get("interjections") or ()
        )
        condition = self._termination_condition
        if condition is not None:
            await condition.reset()
            if state.get("termination"):
                condition.load_state(state["termination"])
        await self._reset_manager()
        self._load_manager(state.get("manager") or {})
