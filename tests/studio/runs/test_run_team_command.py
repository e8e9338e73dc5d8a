"""``manage.py run_team``: a run in the terminal, with the human seat on stdin."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from studio.runs.models import Run, Status
from tests.studio.runs.conftest import assistant, chatty_team, human, make_team, scripted_model

pytestmark = pytest.mark.django_db(transaction=True)


def test_run_team_prints_the_conversation_and_reads_the_human_from_stdin(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = scripted_model(owner, ["What is your name?", "Nice to meet you."])
    team = make_team(
        owner, [assistant(owner, "host", model), human(owner, "guest")], max_messages=4
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("Grace\n"))
    out = io.StringIO()
    call_command("run_team", str(team.pk), task="Greet the guest", stdout=out)
    text = out.getvalue()
    assert "host: What is your name?" in text
    assert "host asks you" not in text  # the human seat is "guest"
    assert "guest asks you" in text
    assert "guest: Grace" in text
    assert "run completed" in text
    assert "\033[" not in text  # no colour when not a terminal
    assert Run.objects.get().status == Status.COMPLETED


def test_run_team_fails_with_the_runs_reason(owner: User) -> None:
    team = chatty_team(owner, turns=6)
    with pytest.raises(CommandError, match="budget_exhausted"):
        call_command("run_team", team.name, task="Talk", budget_tokens=30, stdout=io.StringIO())
