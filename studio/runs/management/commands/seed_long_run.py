"""``manage.py seed_long_run --messages 10000 --user alice``: a long finished run, at once.

Writes a completed run of a gallery team straight to the database (no model, no
executor): the task, then the team's agents taking turns with Markdown replies, a tool
call and its result every tenth turn, and a last message that says it is the last. For
trying the run view at scale, and for ``bench/ui_run.py`` and the browser tests. Prints
the run's id.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from studio.runs.events import EventType, searchable_text
from studio.runs.models import Run, RunEvent, Status
from studio.teams.models import Team, TeamVersion

#: written per bulk insert
BATCH = 2000

REPLY = """Turn {turn}: here is **what I think**, with a list and some code.

- the first point, with a [link](https://example.org/{turn})
- the second point

```python
def turn_{turn}(x):
    return x * {turn}
```
"""


def last_message_text(count: int) -> str:
    """The text of the run's last message (what a test or a benchmark waits to see)."""
    return f"Last message ({count} of {count})."


class Command(BaseCommand):
    """Write a long finished run."""

    help = "Write a finished run of many messages straight to the database; prints its id."

    def add_arguments(self, parser: CommandParser) -> None:
        """--messages, --user and --team."""
        parser.add_argument("--messages", type=int, default=10000, help="Agent messages.")
        parser.add_argument("--user", required=True, help="Who started the run.")
        parser.add_argument("--team", default="Writer and critic", help="A team's exact name.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Write the run and print its id."""
        count = options["messages"]
        if count < 1:
            raise CommandError("--messages must be at least 1.")
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f'No user "{options["user"]}".')
        team = Team.objects.visible_to(user).filter(name=options["team"]).first()
        version = team.latest_version() if team is not None else None
        if team is None or version is None:
            raise CommandError(f'No team "{options["team"]}" that {user} may run.')
        agents = [a["name"] for a in version.spec.get("participants") or []]
        with transaction.atomic():
            run = self.write_run(user, version, agents or ["agent"], count)
        self.stdout.write(str(run.pk))

    def write_run(self, user: User, version: TeamVersion, agents: list[str], count: int) -> Run:
        """The run row and its events."""
        started = timezone.now() - timedelta(seconds=count)
        run = Run.objects.create(
            team=version.team,
            team_version=version,
            task=f"Talk for {count} messages",
            started_by=user,
            status=Status.COMPLETED,
            stop_reason="Maximum number of messages reached.",
            backend="seeded",
            started_at=started,
            finished_at=timezone.now(),
        )
        rows: list[RunEvent] = []

        def add(event_type: EventType, source: str, data: dict[str, Any]) -> None:
            seq = len(rows) + 1
            at = started + timedelta(milliseconds=seq * 50)
            text = searchable_text(event_type, data)
            rows.append(RunEvent(run=run, seq=seq, type=event_type, source=source, data=data))
            rows[-1].text, rows[-1].created_at = text, at

        add(EventType.RUN_STATUS, "", {"status": Status.RUNNING.value})
        add(EventType.MESSAGE, "user", message("task", run.task))
        for turn in range(1, count + 1):
            source = agents[(turn - 1) % len(agents)]
            if turn % 10 == 0:
                call = {"id": f"call_{turn}", "name": "calculator", "arguments": '{"x": 2}'}
                add(EventType.TOOL_CALL, source, {"id": f"tc{turn}", "calls": [call]})
                result = {"call_id": call["id"], "name": "calculator", "content": "4"}
                add(
                    EventType.TOOL_RESULT,
                    source,
                    {
                        "id": f"tr{turn}",
                        "results": [result | {"is_error": False}],
                        "durations_ms": [12.5],
                    },
                )
            text = last_message_text(count) if turn == count else REPLY.format(turn=turn)
            add(EventType.MESSAGE, source, message(f"m{turn}", text))
        add(
            EventType.RUN_FINISHED,
            "",
            {
                "status": Status.COMPLETED.value,
                "stop_reason": run.stop_reason,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cost_usd": 0.0,
            },
        )
        RunEvent.objects.bulk_create(rows, batch_size=BATCH)
        return run


def message(message_id: str, content: str) -> dict[str, Any]:
    """A text message's event data."""
    return {"id": message_id, "kind": "TextMessage", "content": content, "metadata": {}}
