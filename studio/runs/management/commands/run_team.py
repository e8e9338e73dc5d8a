"""``manage.py run_team TEAM --task "…"``: run a team from the terminal.

Events print as they happen; when the human seat asks, type the answer and press
Enter. Ctrl-C stops the run. The exit status is 0 when the run completes.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from studio.errors import ServiceError
from studio.runs import backends, services
from studio.runs.console import render
from studio.runs.streaming import follow_run
from studio.teams.models import Team


class Command(BaseCommand):
    """Run a team and follow it in the terminal."""

    help = "Run a team on a task, print its events, and answer its human seat on stdin."

    def add_arguments(self, parser: CommandParser) -> None:
        """TEAM (id or name), --task, and optional user, budget and verbosity."""
        parser.add_argument("team", help="Team id or exact name.")
        parser.add_argument("--task", required=True, help="What the team should do.")
        parser.add_argument("--user", help="Run as this user (default: the team's owner).")
        parser.add_argument("--budget-tokens", type=int, default=None)
        parser.add_argument("--budget-usd", type=float, default=None)
        parser.add_argument("--all-events", action="store_true", help="Show every event.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Start the run and follow it until it ends."""
        team = self.find_team(options["team"])
        user = self.find_user(options["user"], team)
        try:
            status = asyncio.run(self.follow(team, user, options))
        except ServiceError as exc:
            details = "; ".join(f"{p.path}: {p.message}" for p in exc.problems)
            raise CommandError(f"{exc.message} {details}".strip()) from None
        if status != "completed":
            raise CommandError(f"The run ended {status}.")

    def find_team(self, reference: str) -> Team:
        """A team by id or by exact name."""
        teams = Team.objects.filter(pk=int(reference)) if reference.isdigit() else None
        if not teams:
            teams = Team.objects.filter(name=reference)
        if teams.count() != 1:
            raise CommandError(f'No single team matches "{reference}".')
        return teams.get()

    def find_user(self, username: str | None, team: Team) -> User:
        """The acting user."""
        if not username:
            return team.owner
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f'No user "{username}".')
        return user

    async def follow(self, team: Team, user: User, options: dict[str, Any]) -> str:
        """Start, print events, answer the human seat; returns the final status."""
        run = await sync_to_async(services.start_run)(
            user,
            team.pk,
            options["task"],
            budget_tokens=options["budget_tokens"],
            budget_usd=options["budget_usd"],
        )
        colour = sys.stdout.isatty() and not options.get("no_color")
        answering: asyncio.Task[None] | None = None
        try:
            async for batch in follow_run(run.pk, 0, backends.get_backend(), block=1.0):
                for envelope in (frame.envelope() for frame in batch):
                    line = render(envelope, colour=colour, verbose=options["all_events"])
                    if line is not None:
                        self.stdout.write(line)
                    if envelope["type"] == "input.requested":
                        request_id = envelope["data"]["request_id"]
                        answering = asyncio.create_task(self.answer(run.pk, user, request_id))
                    if envelope["type"] == "run.finished":
                        return str(envelope["data"]["status"])
        except (KeyboardInterrupt, asyncio.CancelledError):
            await sync_to_async(services.stop_run)(user, run.pk)
            raise
        finally:
            if answering is not None:
                answering.cancel()
            await sync_to_async(connections.close_all)()
        return "unknown"

    async def answer(self, run_id: int, user: User, request_id: str) -> None:
        """Read one line from stdin and hand it to the run."""
        line = await read_line()
        try:
            await sync_to_async(services.provide_input)(user, run_id, request_id, line.rstrip("\n"))
        except ServiceError as exc:
            self.stderr.write(exc.message)


async def read_line() -> str:
    """One line of stdin, read in a daemon thread so an unanswered prompt never blocks exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def answer(line: str) -> None:
        if not future.done():
            future.set_result(line)

    def read() -> None:
        loop.call_soon_threadsafe(answer, sys.stdin.readline())

    threading.Thread(target=read, name="run-team-stdin", daemon=True).start()
    return await future
