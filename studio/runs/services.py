"""What people do with runs: start, stop, answer, interject, continue, fork.

Every function takes the acting user and a run or team id from the client, scopes the
lookup to what that user may see (404 otherwise) or steer (403 for a viewer), and
launches executions only once the transaction commits.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from runtime import StateError, replace_message_content
from studio.accounts.throttling import check_run_start
from studio.accounts.users import AnyUser
from studio.errors import Problem, ServiceError
from studio.runs import backends, checkpoints, leases
from studio.runs.accounting import ModelCallLimitReached, TurnLimitReached, continued_usage
from studio.runs.events import EventType
from studio.runs.models import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    Checkpoint,
    CheckpointKind,
    Run,
    RunEvent,
    Status,
)
from studio.runs.sink import write_events
from studio.sql import columns_of, db_value, first_row, insert_row, quoted_column, quoted_table
from studio.teams.models import Team, TeamVersion, spec_hash
from studio.teams.services import snapshot_team
from studio.teams.specs import team_spec
from studio.teams.validation import validate_spec

#: chat events a fork can start from
CONVERSATION_TYPES = (EventType.MESSAGE.value, EventType.HANDOFF.value)
#: error codes of runs the server's ceilings stopped (continuing gives a fresh allowance)
CEILING_CODES = frozenset({ModelCallLimitReached.code, TurnLimitReached.code})


def not_found() -> ServiceError:
    """The one answer for runs a user may not see."""
    return ServiceError("Not found.", status=404)


def run_of_own_team(user: AnyUser, run_id: int) -> Run | None:
    """The run if the user owns its team, and so may watch and steer it (see
    :class:`~studio.runs.models.RunQuerySet`): the common case, answered by one plain
    query before the scoped ones, whose nested subqueries cost milliseconds to build."""
    if not (user.is_authenticated and user.is_active):
        return None
    return first_row(Run, own_run_statement(whole=True), [run_id, user.pk])


def owns_runs_team(user: AnyUser, run_id: int) -> bool:
    """Whether :func:`run_of_own_team` would find the run, without reading it: what
    every socket asks when it opens and now and then after, and every steering frame."""
    if not (user.is_authenticated and user.is_active):
        return False
    with connection.cursor() as cursor:
        cursor.execute(own_run_statement(whole=False), [run_id, user.pk])
        return cursor.fetchone() is not None


@functools.cache
def own_run_statement(*, whole: bool) -> str:
    """A run of a team its owner owns (parameters: the run's id, the owner's id), its
    columns or (not ``whole``) just whether there is one; written out once (see
    :mod:`studio.sql`)."""
    run, team = quoted_table(Run), quoted_table(Team)
    return (
        f"SELECT {columns_of(Run) if whole else 1} FROM {run} INNER JOIN {team} "
        f"ON {team}.{quoted_column(Team, 'id')} = {run}.{quoted_column(Run, 'team')} "
        f"WHERE {run}.{quoted_column(Run, 'id')} = %s "
        f"AND {team}.{quoted_column(Team, 'owner')} = %s"
    )


@functools.cache
def own_team_statement() -> str:
    """A team of its owner (parameters: the team's id, the owner's id), written out once
    (see :mod:`studio.sql`): every run start reads it."""
    team = quoted_table(Team)
    return (
        f"SELECT {columns_of(Team)} FROM {team} "
        f"WHERE {quoted_column(Team, 'id')} = %s AND {quoted_column(Team, 'owner')} = %s"
    )


def get_run(user: AnyUser, run_id: int) -> Run:
    """A run the user may watch (404 otherwise)."""
    run = run_of_own_team(user, run_id) or Run.objects.visible_to(user).filter(pk=run_id).first()
    if run is None:
        raise not_found()
    return run


def get_steerable_run(user: AnyUser, run_id: int) -> Run:
    """A run the user may steer: 404 if unseen, 403 if only watchable."""
    own = run_of_own_team(user, run_id)
    if own is not None:
        return own
    run = get_run(user, run_id)
    if not Run.objects.steerable_by(user).filter(pk=run_id).exists():
        raise ServiceError("You may watch this run but not steer it.", status=403)
    return run


def rights_on_run(user: AnyUser, run_id: int) -> tuple[bool, bool]:
    """Whether the user may watch the run, and whether they may steer it."""
    if owns_runs_team(user, run_id):
        return True, True
    if not Run.objects.visible_to(user).filter(pk=run_id).exists():
        return False, False
    return True, Run.objects.steerable_by(user).filter(pk=run_id).exists()


def can_steer(user: AnyUser, run_id: int) -> bool:
    """Whether the user may answer, stop or interject in the run."""
    if owns_runs_team(user, run_id):
        return True
    return Run.objects.steerable_by(user).filter(pk=run_id).exists()


def launch_on_commit(run_id: int, run: Run | None = None) -> None:
    """Hand the run to the backend once the surrounding transaction commits.

    When the launch fails, ``run`` (the caller's copy of the run) is read again, so that
    it shows the failure.
    """
    backend = backends.get_backend()

    def launch() -> None:
        from studio.runs.execution import fail_queued_run

        try:
            task_id = backend.launch(run_id)
        except Exception as exc:
            # The queue is unreachable: a new run says so instead of waiting in silence; a
            # resumed one stays queued and the sweep launches it again.
            reason = f"The run could not be queued ({exc}). Start it again later."
            fail_queued_run(run_id, reason, backend, code="launch_failed", is_first_attempt=True)
            if run is not None:
                run.refresh_from_db()
            return
        if task_id:  # unless an executor claimed it already, under this same task
            with connection.cursor() as cursor:
                cursor.execute(task_id_statement(), [task_id, run_id, Status.QUEUED.value])

    transaction.on_commit(launch)


@functools.cache
def task_id_statement() -> str:
    """Note a queued run's task (parameters: task id, run id, the queued status); written
    out once (see :mod:`studio.sql`): every distributed start writes it."""
    status = quoted_column(Run, "status")
    return (
        f"UPDATE {quoted_table(Run)} SET {quoted_column(Run, 'task_id')} = %s "
        f"WHERE {quoted_column(Run, 'id')} = %s AND {status} = %s"
    )


def check_budget(budget_tokens: int | None, budget_usd: float | None) -> None:
    """Budgets are positive when given."""
    if budget_tokens is not None and budget_tokens <= 0:
        raise ServiceError(
            "The budget is not valid.",
            problems=[Problem("budget.tokens", "must be a positive number of tokens")],
        )
    if budget_usd is not None and budget_usd <= 0:
        raise ServiceError(
            "The budget is not valid.",
            problems=[Problem("budget.usd", "must be a positive amount of dollars")],
        )


def check_start_limits(user: User) -> None:
    """Refuse a start, continuation or fork past the user's limits.

    409 with ``RUNS_MAX_ACTIVE_PER_USER`` runs active (queued, running, or waiting
    unparked), 429 past ``RUNS_STARTS_PER_MINUTE``; call inside the start's transaction.
    """
    limit = settings.RUNS_MAX_ACTIVE_PER_USER
    if limit:
        with connection.cursor() as cursor:
            if connection.features.has_select_for_update:
                # Two starts at once must not both take the last place: queue them on the
                # user row (SQLite's write transactions queue for its one lock already).
                cursor.execute(lock_user_statement(), [user.pk])
            waiting = Status.AWAITING_INPUT.value
            statuses = [status.value for status in ACTIVE_STATUSES]
            cursor.execute(active_runs_statement(), [user.pk, *statuses, waiting])
            (active,) = cursor.fetchone()
        if active >= limit:
            raise ServiceError(
                f"You have {active} active runs, the most allowed (RUNS_MAX_ACTIVE_PER_USER "
                f"is {limit}); wait for one to finish or stop one, then start again.",
                status=409,
            )
    check_run_start(user.pk)


@functools.cache
def lock_user_statement() -> str:
    """Lock a user's row until the transaction ends (parameter: the user's id); written
    out once (see :mod:`studio.sql`), as for every start."""
    model = get_user_model()
    return f"SELECT 1 FROM {quoted_table(model)} WHERE {quoted_column(model, 'id')} = %s FOR UPDATE"


@functools.cache
def active_runs_statement() -> str:
    """How many runs a user has active (parameters: the user's id, the
    :data:`ACTIVE_STATUSES`, and the waiting status, which a parked run leaves): through
    the runs by starter and status (an index), not through every run the user started;
    written out once (see :mod:`studio.sql`)."""
    status, parked = quoted_column(Run, "status"), quoted_column(Run, "parked_at")
    places = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    return (
        f"SELECT COUNT(*) FROM {quoted_table(Run)} "
        f"WHERE {quoted_column(Run, 'started_by')} = %s AND {status} IN ({places}) "
        f"AND NOT ({status} = %s AND {parked} IS NOT NULL)"
    )


def start_run(
    user: User,
    team_id: int,
    task: str,
    *,
    budget_tokens: int | None = None,
    budget_usd: float | None = None,
) -> Run:
    """Start a run of the team's current version on ``task``.

    The run returned is as created (queued), unless it could not be launched. The team
    is read and checked before the transaction: on SQLite a write transaction holds the
    one write lock from its start, which the runs' own writes wait for.
    """
    # Owners see their teams: one plain query before the scoped one.
    team = first_row(Team, own_team_statement(), [team_id, user.pk]) if user.is_active else None
    team = team or Team.objects.visible_to(user).filter(pk=team_id).first()
    if team is None:
        raise not_found()
    if not task.strip():
        raise ServiceError("Give the team a task.", problems=[Problem("task", "is empty")])
    check_budget(budget_tokens, budget_usd)
    spec = team_spec(team)
    digest = spec_hash(spec)
    refuse_unrunnable(spec, digest)
    with transaction.atomic():
        check_start_limits(user)
        version = unchanged_version(team, digest) or snapshot_checked_team(team, user)
        run = Run(
            team=team,
            team_version=version,
            task=task,
            next_task=task,
            started_by=user,
            budget_tokens=budget_tokens,
            budget_usd=budget_usd,
            backend=backends.get_backend().name,
        )
        insert_row(run)
        launch_on_commit(run.pk, run)
    return run


def snapshot_checked_team(team: Team, user: User) -> TeamVersion:
    """A new version of the team as it is now, checked again: it may have changed (or
    gone) since it was read outside the start's transaction (a version that cannot run
    goes with the transaction)."""
    try:
        team.refresh_from_db()
    except Team.DoesNotExist:
        raise not_found() from None
    version = snapshot_team(team, user)
    refuse_unrunnable(version.spec)
    return version


def refuse_unrunnable(spec: dict[str, Any], digest: str | None = None) -> None:
    """Refuse to start a team whose spec has problems (each with its path); ``digest``
    as for :func:`validate_spec`."""
    problems = validate_spec(spec, digest=digest)
    if problems:
        raise ServiceError("This team cannot run yet.", problems=problems)


def unchanged_version(team: Team, digest: str) -> TeamVersion | None:
    """The team's latest version when it holds the spec whose `spec_hash` is ``digest``
    already (a start then writes no version, and needs no second look at the team). Its
    spec is not read (the hash says whether it matches), nor what a run start does not use."""
    latest = first_row(TeamVersion, latest_version_statement(), [team.pk])
    return latest if latest is not None and latest.content_hash == digest else None


@functools.cache
def latest_version_statement() -> str:
    """A team's latest version (parameter: the team's id): its id, number and hash, the
    rest read if asked for; written out once (see :mod:`studio.sql`), for every start."""
    number = quoted_column(TeamVersion, "number")
    columns = ", ".join(
        quoted_column(TeamVersion, name) for name in ("id", "team", "number", "content_hash")
    )
    return (
        f"SELECT {columns} FROM {quoted_table(TeamVersion)} "
        f"WHERE {quoted_column(TeamVersion, 'team')} = %s ORDER BY {number} DESC LIMIT 1"
    )


def end_without_executor(run_id: int, status: str, reason: str, code: str = "") -> None:
    """Write the final events of a run no executor holds (status already moved)."""
    run = Run.objects.get(pk=run_id)
    described: list[tuple[str, str, dict[str, Any]]] = []
    if code:
        described.append((EventType.ERROR.value, "", {"code": code, "message": reason}))
    described.append(
        (
            EventType.RUN_FINISHED.value,
            "",
            {
                "status": status,
                "stop_reason": reason,
                "prompt_tokens": run.prompt_tokens,
                "completion_tokens": run.completion_tokens,
                "cost_usd": run.cost_usd,
            },
        )
    )
    write_events(run_id, described, backends.get_backend())


@transaction.atomic
def stop_run(user: AnyUser, run_id: int) -> Run:
    """Stop a run: at once if nothing executes it, else through its inbox.

    A run that does not react within ``RUNS_STOP_GRACE_SECONDS`` is terminated and its
    end written by the server.
    """
    from django.conf import settings

    run = get_steerable_run(user, run_id)
    backend = backends.get_backend()
    reason = f"Stopped by {user.get_username()}."
    if run.status == Status.QUEUED or run.is_parked:
        source = (Status.QUEUED,) if run.status == Status.QUEUED else (Status.AWAITING_INPUT,)
        query = Run.objects.filter(pk=run_id, status__in=source, lease="")
        if query.update(**leases.finish_changes(Status.CANCELLED, reason)):
            end_without_executor(run_id, Status.CANCELLED, reason)
            transaction.on_commit(lambda: backend.request_cancel(run_id))
            return Run.objects.get(pk=run_id)
        run.refresh_from_db()
    if run.status in (Status.RUNNING, Status.AWAITING_INPUT, Status.QUEUED):
        message = {"type": "stop", "user": user.get_username()}

        def ask() -> None:
            backend.request_cancel(run_id)
            backend.post(run_id, message)
            backend.check_stop_later(run_id, settings.RUNS_STOP_GRACE_SECONDS)

        transaction.on_commit(ask)
        return run
    raise ServiceError(f"The run has already ended ({run.get_status_display()}).", status=409)


def provide_input(user: AnyUser, run_id: int, request_id: str, content: str) -> None:
    """Answer the human seat's pending request ``request_id``.

    The answer is stored only while the request is pending (a conditional update); a run
    that parked meanwhile is launched again to take it, a waiting one gets it in its inbox.
    The common case, the team's owner (who may steer) answering a run that waits
    unparked, is one statement and needs no transaction around it: on PostgreSQL the
    transaction's COMMIT cost the answer one more round trip before the run had it.
    """
    answer = {
        "type": "input",
        "request_id": request_id,
        "content": content,
        "user": user.get_username(),
    }
    backend = backends.get_backend()
    if user.is_authenticated and user.is_active and store_owners_answer(run_id, user, answer):
        transaction.on_commit(lambda: backend.post(run_id, answer))
        return
    store_answer(user, run_id, answer)


@transaction.atomic
def store_answer(user: AnyUser, run_id: int, answer: dict[str, Any]) -> None:
    """:func:`provide_input` for any other user or run: the rights checked, the refusal
    explained, a parked run launched again to take the answer."""
    backend = backends.get_backend()
    request_id = answer["request_id"]
    run = get_steerable_run(user, run_id)
    pending = Run.objects.filter(
        pk=run_id,
        status=Status.AWAITING_INPUT,
        pending_request_id=request_id,
        pending_answer__isnull=True,
    )
    if not pending.update(pending_answer=answer, updated_at=timezone.now()):
        raise not_pending(run, request_id)
    relaunched = Run.objects.filter(
        pk=run_id, status=Status.AWAITING_INPUT, parked_at__isnull=False, lease=""
    ).update(
        status=Status.QUEUED, resume_reason="answered after parking", updated_at=timezone.now()
    )
    if relaunched:
        transaction.on_commit(lambda: backend.reset_inbox(run_id))
        launch_on_commit(run_id)
    else:
        transaction.on_commit(lambda: backend.post(run_id, answer))


@functools.cache
def owners_answer_statement() -> str:
    """``UPDATE`` storing an answer to the pending request of a run waiting unparked, on
    a team of the given owner (see :func:`store_owners_answer`)."""
    column = functools.partial(quoted_column, Run)
    answer = column("pending_answer")
    return (
        f"UPDATE {quoted_table(Run)} SET {answer} = %s, {column('updated_at')} = %s "
        f"WHERE {column('id')} = %s AND {column('status')} = %s "
        f"AND {column('pending_request_id')} = %s AND {answer} IS NULL "
        f"AND {column('parked_at')} IS NULL AND {column('team')} IN "
        f"(SELECT {quoted_column(Team, 'id')} FROM {quoted_table(Team)} "
        f"WHERE {quoted_column(Team, 'owner')} = %s)"
    )


def store_owners_answer(run_id: int, user: AnyUser, answer: dict[str, Any]) -> bool:
    """Store ``answer`` if the run waits unparked for its request and its team is the
    user's own; whether it did. Written out once (see :mod:`studio.sql`): a human's
    answer waits for this statement, which the ORM took most of a millisecond to compile."""
    values = [
        db_value(Run, "pending_answer", answer),
        db_value(Run, "updated_at", timezone.now()),
        run_id,
        Status.AWAITING_INPUT.value,
        answer["request_id"],
        user.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(owners_answer_statement(), values)
        return bool(cursor.rowcount == 1)


def not_pending(run: Run, request_id: str) -> ServiceError:
    """Explain why an answer to ``request_id`` is not accepted."""
    run.refresh_from_db()
    if run.status != Status.AWAITING_INPUT:
        detail = f"the run is not waiting for input (it is {run.get_status_display().lower()})"
    elif run.pending_answer is not None:
        detail = "that request was already answered"
    else:
        detail = f"the run waits for request {run.pending_request_id}"
    return ServiceError(
        f"Request {request_id} is not pending: {detail}.",
        status=409,
        problems=[Problem("request_id", "is not pending")],
    )


@transaction.atomic
def interject(user: AnyUser, run_id: int, content: str) -> Run:
    """Queue a message from the user for the run's next turn boundary."""
    run = get_steerable_run(user, run_id)
    if not content.strip():
        raise ServiceError("Say something.", problems=[Problem("content", "is empty")])
    if run.status not in (Status.RUNNING, Status.AWAITING_INPUT, Status.QUEUED) or run.is_parked:
        raise ServiceError(
            f"Only a working run takes interjections (this one is "
            f"{run.get_status_display().lower()}).",
            status=409,
        )
    message = {"type": "interject", "content": content, "user": user.get_username()}
    backend = backends.get_backend()
    transaction.on_commit(lambda: backend.post(run_id, message))
    return run


def last_seq(run_id: int) -> int:
    """The run's latest seq (0 when it has none)."""
    last = RunEvent.objects.filter(run_id=run_id).order_by("-seq").values("seq").first()
    return last["seq"] if last else 0


@transaction.atomic
def continue_run(
    user: User,
    run_id: int,
    task: str = "",
    *,
    budget_tokens: int | None = None,
    budget_usd: float | None = None,
) -> Run:
    """Continue a finished run, with a new task or none, keeping its conversation.

    New budgets replace the old ones (raise a budget to continue past it); the server's
    ceilings on turns and model calls count afresh from here.
    """
    run = get_steerable_run(user, run_id)
    if run.status not in FINISHED_STATUSES:
        raise ServiceError("Only a finished run can be continued.", status=409)
    check_budget(budget_tokens, budget_usd)
    check_start_limits(user)
    changes: dict[str, Any] = {
        "status": Status.QUEUED,
        "stop_reason": "",
        "finished_at": None,
        "next_task": task,
        "next_task_after_seq": last_seq(run_id),
        "usage": continued_usage(run.usage or {}),
        "updated_at": timezone.now(),
    }
    if budget_tokens is not None:
        changes["budget_tokens"] = budget_tokens
    if budget_usd is not None:
        changes["budget_usd"] = budget_usd
    if not Run.objects.transition(run_id, FINISHED_STATUSES, **changes):
        raise ServiceError("The run changed meanwhile; try again.", status=409)
    if (
        run.status == Status.BUDGET_EXHAUSTED
        and not stopped_at_a_ceiling(run_id)
        and not raises_budget(run, budget_tokens, budget_usd)
    ):
        raise ServiceError(
            f"The run stopped at its budget ({run.stop_reason}) Raise it to continue.",
            problems=[Problem("budget", "must be raised to continue this run")],
        )
    run.refresh_from_db()
    backend = backends.get_backend()
    transaction.on_commit(lambda: backend.reset_inbox(run_id))
    launch_on_commit(run_id)
    return run


def stopped_at_a_ceiling(run_id: int) -> bool:
    """Whether the run's last error was one of the server's ceilings, not its budget."""
    last_error = (
        RunEvent.objects.filter(run_id=run_id, type=EventType.ERROR.value, discarded=False)
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    return isinstance(last_error, dict) and last_error.get("code") in CEILING_CODES


def raises_budget(run: Run, budget_tokens: int | None, budget_usd: float | None) -> bool:
    """Whether the new budget gives the run room it did not have."""
    more_tokens = budget_tokens is not None and (
        run.budget_tokens is None or budget_tokens > run.budget_tokens
    )
    more_dollars = budget_usd is not None and (
        run.budget_usd is None or budget_usd > run.budget_usd
    )
    return more_tokens or more_dollars


@transaction.atomic
def fork_run(
    user: User,
    run_id: int,
    from_seq: int,
    edited_content: str | None = None,
    task: str = "",
) -> Run:
    """A new run that continues the conversation from the message at ``from_seq``.

    With ``edited_content`` that message is replaced (everywhere the team state holds
    it) before the new run goes on. The new run starts with a copy of the transcript up
    to that message.
    """
    parent = get_steerable_run(user, run_id)
    if not Run.objects.filter(pk=run_id).filter(team__in=Team.objects.visible_to(user)).exists():
        raise ServiceError("You cannot run this team.", status=403)
    event = RunEvent.objects.filter(run_id=run_id, seq=from_seq, discarded=False).first()
    if event is None or event.type not in CONVERSATION_TYPES:
        raise ServiceError(
            f"Seq {from_seq} is not a message of this run.",
            problems=[Problem("from_seq", "must be the seq of a message")],
        )
    checkpoint = checkpoint_after_message(run_id, from_seq)
    check_start_limits(user)
    state = checkpoints.load_state(checkpoint)
    data = dict(event.data)
    if edited_content is not None:
        state = edit_message_in_state(state, data.get("id"), edited_content)
        data.update(content=edited_content, edited=True)
    fork = Run.objects.create(
        team=parent.team,
        team_version=parent.team_version,
        task=parent.task,
        next_task=task,
        next_task_after_seq=from_seq,
        started_by=user,
        budget_tokens=parent.budget_tokens,
        budget_usd=parent.budget_usd,
        parent=parent,
        parent_seq=from_seq,
        backend=backends.get_backend().name,
    )
    copied = copy_transcript(run_id, fork.pk, from_seq, edited=(from_seq, data))
    Run.objects.filter(pk=fork.pk).update(next_task_after_seq=copied)
    Checkpoint.objects.create(
        run=fork,
        seq=copied,
        kind=CheckpointKind.FULL,
        base_seq=copied,
        state_json=json.dumps(state),
    )
    launch_on_commit(fork.pk)
    return fork


def checkpoint_after_message(run_id: int, seq: int) -> Checkpoint:
    """The checkpoint that ends the turn whose message is at ``seq``."""
    checkpoint = Checkpoint.objects.filter(run_id=run_id, seq__gte=seq).order_by("seq").first()
    if checkpoint is not None:
        later_message = RunEvent.objects.filter(
            run_id=run_id,
            seq__gt=seq,
            seq__lte=checkpoint.seq,
            discarded=False,
            type__in=CONVERSATION_TYPES,
        ).exists()
        if not later_message:
            return checkpoint
    raise ServiceError(
        "There is no checkpoint right after this message; fork from another message.",
        status=409,
        problems=[Problem("from_seq", "has no checkpoint")],
    )


def edit_message_in_state(state: Any, message_id: Any, content: str) -> dict[str, Any]:
    """A copy of a checkpoint's team state in which message ``message_id`` says ``content``."""
    reason = "the message has no id to find it by"
    if isinstance(message_id, str) and isinstance(state, dict):
        try:
            return replace_message_content(state, message_id, content)
        except StateError as exc:
            reason = str(exc)
    raise ServiceError(
        f"This message cannot be edited ({reason}); fork from it without an edit.",
        status=409,
        problems=[Problem("edited_content", "cannot be applied to this message")],
    )


def copy_transcript(
    source_id: int, target_id: int, up_to: int, *, edited: tuple[int, dict[str, Any]]
) -> int:
    """Copy the surviving events up to seq ``up_to`` into another run, renumbered 1…n.

    Returns n, the seq the copy ends at.
    """
    rows = []
    events = RunEvent.objects.filter(run_id=source_id, seq__lte=up_to, discarded=False)
    for number, event in enumerate(events.order_by("seq"), start=1):
        data = edited[1] if event.seq == edited[0] else event.data
        rows.append(
            RunEvent(
                run_id=target_id,
                seq=number,
                type=event.type,
                source=event.source,
                data=data,
                text=str(data.get("content", "")) if event.text else "",
                created_at=event.created_at,
            )
        )
    RunEvent.objects.bulk_create(rows)
    return len(rows)
