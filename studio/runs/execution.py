"""The one code path that executes a run, in either backend.

:func:`execute_run` claims the run, builds its team from the pinned spec, restores the
latest checkpoint, and runs the team with a :class:`~studio.runs.sink.RunSink`. Beside
the team it keeps two small tasks: a heartbeat that renews the lease, and a listener
that reads the run's inbox (``stop``, ``interject``, ``input``). When the human seat
waits longer than ``RUNS_INPUT_GRACE_SECONDS`` the run parks: its worker is released
and an answer launches it again from the checkpoint.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction

from runtime import (
    CancellationToken,
    ChatCompletionClient,
    InputError,
    ModelClientError,
    TextMessage,
    current_request_id,
)
from studio.logs import bind_run
from studio.runs import leases
from studio.runs.accounting import (
    Accountant,
    BudgetedModelClient,
    BudgetExhausted,
    cap_turns,
    check_turn_ceiling,
    price_from_spec,
)
from studio.runs.backends import Backend
from studio.runs.database import call_database
from studio.runs.events import EventType
from studio.runs.models import Run, Status
from studio.runs.sink import RunSink, beat, write_events
from studio.teams.building import build_team

logger = logging.getLogger(__name__)

#: how long one inbox read blocks; also the most a finished run waits for its listener
LISTEN_WAIT_SECONDS = 5.0


class Ending(enum.Enum):
    """Why an execution ends other than by the team finishing on its own."""

    STOPPED = "stopped"
    PARKED = "parked"
    INPUT_TIMEOUT = "input_timeout"
    LEASE_LOST = "lease_lost"


@dataclass(slots=True)
class Outcome:
    """How the execution ended: the run's final status (None: not final) and why."""

    status: str | None
    reason: str
    error_code: str = ""


async def execute_run(run_id: int, backend: Backend, *, task_id: str = "") -> None:
    """Claim run ``run_id`` and execute it to its end, its parking or its loss.

    Never raises: failures end the run as ``failed`` with the reason.
    """
    bind_run(run_id)
    try:
        claim = await claim_run(run_id, backend, task_id)
    except DatabaseError as exc:
        logger.error("run %s: could not be claimed: %s", run_id, exc)
        await fail_unstarted(run_id, backend, f"the database did not answer ({exc})")
        return
    if claim is None:
        return
    execution = Execution(claim, backend)
    try:
        await execution.execute()
    except Exception:
        logger.exception("run %s: execution crashed", run_id)


async def claim_run(run_id: int, backend: Backend, task_id: str) -> leases.Claim | None:
    """Claim the run, waiting out the lease of an executor that just died.

    A database that does not answer is retried for ``RUNS_DATABASE_RETRY_SECONDS``
    (then the database error is raised).
    """
    deadline = time.monotonic() + settings.RUNS_LEASE_SECONDS + 2 * settings.RUNS_HEARTBEAT_SECONDS
    while True:
        result, claim = await call_database(leases.try_claim, run_id, leases.worker_name(), task_id)
        if result is leases.ClaimResult.CLAIMED:
            return claim
        if result is leases.ClaimResult.GONE or time.monotonic() > deadline:
            return None
        await asyncio.sleep(settings.RUNS_HEARTBEAT_SECONDS)


async def fail_unstarted(run_id: int, backend: Backend, why: str) -> None:
    """Say that a queued run could not start: an error event and a failed status.

    When even that cannot be written the run stays queued, and a sweep launches it again
    once its task is known to be gone.
    """
    reason = f"The run could not start: {why}."
    try:
        await call_database(
            fail_queued_run, run_id, reason, backend, give_up_after=settings.RUNS_HEARTBEAT_SECONDS
        )
    except DatabaseError:
        logger.exception("run %s: recording that it could not start failed", run_id)


def fail_queued_run(
    run_id: int,
    reason: str,
    backend: Backend,
    *,
    code: str = "start_failed",
    is_first_attempt: bool = False,
) -> bool:
    """End a run that is still queued as failed, with its error and final events.

    ``is_first_attempt`` spares a run that ran before (a resumption): the sweep launches
    it again instead. Returns whether the run was ended.
    """
    with transaction.atomic():
        changes = leases.finish_changes(Status.FAILED, reason)
        query = Run.objects.filter(pk=run_id, status=Status.QUEUED)
        if is_first_attempt:
            query = query.filter(attempts=0)
        if not query.update(**changes):
            return False
        logger.warning("run %s: %s", run_id, reason)
        run = Run.objects.get(pk=run_id)
        finished = {
            "status": Status.FAILED.value,
            "stop_reason": reason,
            "prompt_tokens": run.prompt_tokens,
            "completion_tokens": run.completion_tokens,
            "cost_usd": run.cost_usd,
        }
        error = {"code": code, "message": reason}
        described: list[tuple[str, str, dict[str, Any]]] = [
            (EventType.ERROR.value, "", error),
            (EventType.RUN_FINISHED.value, "", finished),
        ]
        write_events(run_id, described, backend)
    return True


def hand_back(run_ids: list[int], backend: Backend) -> list[int]:
    """Queue runs this process stopped executing (it shuts down) for another executor.

    Only runs it still holds move (its worker name is on them), each is launched again
    and resumes from its last checkpoint. Returns the ids handed back.
    """
    moved = []
    for run_id in run_ids:
        held = Run.objects.filter(
            pk=run_id,
            worker=leases.worker_name(),
            status__in=(Status.RUNNING, Status.AWAITING_INPUT),
            parked_at__isnull=True,
        )
        if held.update(**leases.requeue_changes("its worker shut down")):
            moved.append(run_id)
            backend.launch(run_id)
    if moved:
        logger.warning("handed back %d runs for other workers: %s", len(moved), moved)
    return moved


class Execution:
    """One attempt at a run, from claim to its end."""

    def __init__(self, claim: leases.Claim, backend: Backend) -> None:
        self.claim = claim
        self.run_id = claim.run_id
        self.backend = backend
        self.token = CancellationToken()
        self.ending: Ending | None = None
        self.stopped_by = ""
        self.answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.parked_answer = claim.pending_answer
        self.waiting_for = ""
        self.team: Any = None
        self.task: asyncio.Task[Any] | None = None
        self.is_listening = True
        self.accountant = Accountant(
            budget_tokens=claim.budget_tokens,
            budget_usd=claim.budget_usd,
            prompt_tokens=claim.prompt_tokens,
            completion_tokens=claim.completion_tokens,
            cost_usd=claim.cost_usd,
            usage=claim.usage,
            max_model_calls=settings.RUNS_MAX_MODEL_CALLS,
        )
        self.sink = RunSink(
            self.run_id,
            lease=claim.lease,
            next_seq=claim.next_seq,
            log=backend.log(self.run_id),
            accountant=self.accountant,
            checkpoint_interval=settings.RUNS_CHECKPOINT_INTERVAL_MS / 1000,
            on_input_requested=self.on_input_requested,
        )

    async def execute(self) -> None:
        """Run the team and record how it ended."""
        self.task = asyncio.current_task()
        self.sink.start()
        helpers = [
            asyncio.create_task(self.keep_lease()),
            asyncio.create_task(self.listen()),
        ]
        outcome: Outcome | None = None
        try:
            outcome = await self.run_team()
        finally:
            self.is_listening = False
            for helper in helpers:
                helper.cancel()
            # A blocking Redis read may swallow a cancellation; the loop flag ends it.
            await asyncio.wait(helpers, timeout=LISTEN_WAIT_SECONDS + 1)
            if outcome is None:  # cancelled from outside (shutdown): leave it for recovery
                await self.sink.close(discard=True)
        await self.conclude(outcome)

    async def run_team(self) -> Outcome:
        """Prepare and run the team; map every way it can end onto an outcome."""
        try:
            await self.prepare()
            if await self.backend.is_cancel_requested(self.run_id):
                return Outcome(Status.CANCELLED, "Stopped before it started.")
            result = await self.team.run(
                task=self.claim.task, cancellation_token=self.token, sink=self.sink
            )
            check_turn_ceiling(self.claim.spec, settings.RUNS_MAX_TURNS, result.stop_reason or "")
            return Outcome(Status.COMPLETED, result.stop_reason or "")
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self.ending is None or (task is not None and task.cancelling()):
                raise
            return self.outcome_of_ending()
        except BudgetExhausted as exc:
            return Outcome(Status.BUDGET_EXHAUSTED, str(exc), exc.code)
        except ModelClientError as exc:
            return Outcome(Status.FAILED, f"Model error: {exc}", "model_error")
        except InputError as exc:
            return Outcome(Status.FAILED, f"Input error: {exc}", "input_error")
        except Exception as exc:
            if self.ending is not None:  # a stop that surfaced as another exception
                return self.outcome_of_ending()
            logger.exception("run %s failed", self.run_id)
            return Outcome(Status.FAILED, f"{type(exc).__name__}: {exc}", "error")

    def outcome_of_ending(self) -> Outcome:
        """The outcome an explicit ending asked for."""
        if self.ending is Ending.STOPPED:
            return Outcome(Status.CANCELLED, f"Stopped by {self.stopped_by or 'a user'}.")
        if self.ending is Ending.INPUT_TIMEOUT:
            seconds = settings.RUNS_INPUT_TIMEOUT_SECONDS
            return Outcome(Status.TIMED_OUT, f"No answer from the human within {seconds} s.")
        if self.ending is Ending.PARKED:
            return Outcome(None, "parked")
        return Outcome(None, "lease lost")

    async def prepare(self) -> None:
        """Report a resumption, build the team and restore its checkpoint."""
        claim = self.claim
        if claim.next_seq - 1 > claim.checkpoint_seq or claim.resume_reason:
            first, last = await call_database(
                leases.discard_after, self.run_id, claim.checkpoint_seq
            )
            reason = claim.resume_reason or "resumed from its last checkpoint"
            if claim.resume_reason:  # told once: the next claim must not tell it again
                self.sink.update_run(resume_reason="")
            await self.sink.record(
                EventType.RUN_RESUMED,
                "",
                {
                    "checkpoint_seq": claim.checkpoint_seq,
                    "discarded_from": first,
                    "discarded_to": last,
                    "reason": reason,
                },
            )
        # Built first: the running status then goes out with the team's first events,
        # not in a write of its own that theirs would wait behind.
        self.team = await call_database(self.build_team)
        await self.sink.record(EventType.RUN_STATUS, "", {"status": Status.RUNNING.value})
        self.sink.bind_team(self.team)
        self.sink.always_checkpoint = has_human_seat(claim.spec)
        if claim.checkpoint_state is not None:
            await self.team.load_state(claim.checkpoint_state)

    def build_team(self) -> Any:
        """The team of the pinned spec (model credentials come from the database)."""
        return build_team(
            cap_turns(self.claim.spec, settings.RUNS_MAX_TURNS),
            input_func=self.ask_human,
            wrap_model_client=self.wrap_model_client,
        )

    def wrap_model_client(
        self, client: ChatCompletionClient, model_spec: dict[str, Any]
    ) -> ChatCompletionClient:
        """Every model call of the run goes through the budget and the usage meter."""
        return BudgetedModelClient(
            client,
            model=str(model_spec.get("model") or model_spec.get("name") or client.model),
            price=price_from_spec(model_spec),
            accountant=self.accountant,
            on_usage=self.on_usage,
        )

    async def on_usage(self, model: str, data: dict[str, Any]) -> None:
        """Report one model call's usage."""
        await self.sink.record(EventType.USAGE, model, data)

    # --- the human seat ---

    async def on_input_requested(self, request_id: str) -> None:
        """Mark the run as waiting before the request becomes visible to anyone.

        The sink writes the change with the request's event, in one transaction, and in
        order with the earlier answer's change (a direct write could overtake it).
        """
        self.waiting_for = request_id
        if self.parked_answer is None:
            self.sink.update_run(**leases.waiting_changes(request_id))

    async def ask_human(self, prompt: str, cancellation_token: CancellationToken) -> str:
        """The input function of every human seat: wait for an answer, or park."""
        request_id = current_request_id() or self.waiting_for
        if self.parked_answer is not None:
            answer, self.parked_answer = self.parked_answer, None
            self.sink.update_run(**leases.answered_changes())
            return await self.accept_answer(request_id, answer)
        await self.sink.record(
            EventType.RUN_STATUS, "", {"status": Status.AWAITING_INPUT.value, "reason": prompt}
        )
        grace = settings.RUNS_INPUT_GRACE_SECONDS
        limit = settings.RUNS_INPUT_TIMEOUT_SECONDS
        deadline = time.monotonic() + min(grace, limit)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            getter = asyncio.ensure_future(self.answers.get())
            cancellation_token.link_future(getter)
            self.token.link_future(getter)
            try:
                message = await asyncio.wait_for(getter, remaining)
            except TimeoutError:
                break
            if message.get("request_id") == request_id:
                # Written with the events below, in one transaction.
                self.sink.update_run(**leases.answered_changes())
                await self.sink.record(EventType.RUN_STATUS, "", {"status": Status.RUNNING.value})
                return await self.accept_answer(request_id, message)
        self.end(Ending.INPUT_TIMEOUT if limit <= grace else Ending.PARKED)
        raise asyncio.CancelledError

    async def accept_answer(self, request_id: str, answer: dict[str, Any]) -> str:
        """Record the answer and hand it to the team."""
        content = str(answer.get("content", ""))
        await self.sink.record(
            EventType.INPUT_PROVIDED,
            str(answer.get("user", "")),
            {"request_id": request_id, "content": content, "user": str(answer.get("user", ""))},
        )
        # The human sees the answer taken before the team goes on with it.
        await self.sink.send_out()
        self.waiting_for = ""
        return content

    # --- the helpers beside the team ---

    def end(self, ending: Ending) -> None:
        """Stop the team for ``ending`` (the first ending wins)."""
        if self.ending is None:
            self.ending = ending
        self.token.cancel()

    async def keep_lease(self) -> None:
        """Renew the lease; a lost lease means another executor owns the run now."""
        while True:
            await asyncio.sleep(settings.RUNS_HEARTBEAT_SECONDS)
            try:
                is_held = await beat(self.run_id, self.claim.lease)
            except Exception:
                logger.exception("run %s: heartbeat failed", self.run_id)
                continue
            if not is_held:
                logger.warning("run %s: lease lost, abandoning this attempt", self.run_id)
                self.end(Ending.LEASE_LOST)
                return

    async def listen(self) -> None:
        """Act on inbox messages: stop, interject, input."""
        inbox = self.backend.inbox(self.run_id)
        while self.is_listening:
            try:
                message = await inbox.get(LISTEN_WAIT_SECONDS)
            except Exception:
                logger.exception("run %s: reading the inbox failed", self.run_id)
                await asyncio.sleep(1)
                continue
            if message is None:
                continue
            kind = message.get("type")
            if kind == "stop":
                self.stopped_by = str(message.get("user", ""))
                self.end(Ending.STOPPED)
            elif kind == "terminate" and self.task is not None:
                # The run was ended for it (it ignored stop): cut the execution short.
                self.task.cancel()
            elif kind == "interject" and self.team is not None:
                user = str(message.get("user") or "user")
                content = str(message.get("content", ""))
                self.team.interject(TextMessage(content=content, source=user))
                await self.sink.record(
                    EventType.INTERJECTION, user, {"content": content, "user": user}
                )
            elif kind == "input":
                await self.answers.put(message)

    # --- the end ---

    async def conclude(self, outcome: Outcome) -> None:
        """Write the final events, checkpoint and status for ``outcome``."""
        lease = self.claim.lease
        if self.ending is Ending.LEASE_LOST:
            await self.sink.close(discard=True)
            return
        try:
            if outcome.status is None:  # parked
                await self.sink.record(
                    EventType.RUN_STATUS,
                    "",
                    {"status": Status.AWAITING_INPUT.value, "reason": "parked"},
                )
                await self.sink.close()
                is_parked = await call_database(leases.park, self.run_id, lease)
                # An answer that arrived while parking: go again at once.
                if not is_parked and await call_database(leases.requeue, self.run_id, lease):
                    self.backend.launch(self.run_id)
                return
            state = None
            if outcome.status == Status.COMPLETED:
                state = await self.sink.snapshot()
            if outcome.error_code:
                await self.sink.record(
                    EventType.ERROR, "", {"code": outcome.error_code, "message": outcome.reason}
                )
            final_seq = await self.sink.record(
                EventType.RUN_FINISHED,
                "",
                {
                    "status": str(outcome.status),
                    "stop_reason": outcome.reason,
                    "prompt_tokens": self.accountant.prompt_tokens,
                    "completion_tokens": self.accountant.completion_tokens,
                    "cost_usd": self.accountant.cost_usd,
                },
            )
            if state is not None:
                self.sink.queue_checkpoint(final_seq, state)
            self.sink.update_run(**leases.finish_changes(str(outcome.status), outcome.reason))
            await self.sink.close()
        except Exception:
            logger.exception("run %s: saving its end failed", self.run_id)
            await self.sink.close(discard=True)
            reason = "Saving the run's events failed."
            await call_database(leases.finish, self.run_id, lease, Status.FAILED, reason)
        await self.backend.log(self.run_id).finish()
        if self.team is not None:
            await close_quietly(self.team)


async def close_quietly(team: Any) -> None:
    """Release the team's model clients; failures here must not fail the run."""
    try:
        await team.close()
    except Exception:
        logger.debug("closing a team failed", exc_info=True)


def has_human_seat(spec: dict[str, Any]) -> bool:
    """Whether any participant (nested teams included) is a human seat."""
    for agent in spec.get("participants") or []:
        if agent.get("kind") == "user_proxy":
            return True
        if isinstance(agent.get("team"), dict) and has_human_seat(agent["team"]):
            return True
    return False
