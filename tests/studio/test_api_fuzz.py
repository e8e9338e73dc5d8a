"""Property-based fuzzing of the whole JSON API from its own OpenAPI schema.

Schemathesis generates requests for every operation, valid and invalid, and sends them
through the WSGI application in this process, authenticated with the owner's bearer
token. Half of the requests aim at objects that exist (a team with agents, a model, a
credential, a finished run, a share), so they get past the 404s into the code behind.
No response may be a server error, and every response must match its documented schema.

Bounded for the suite (``FUZZ_EXAMPLES`` per operation and mode, 10 by default);
``make fuzz`` runs it longer.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from studio.accounts.models import ApiToken
from studio.runs import backends
from studio.runs import services as run_services
from studio.runs.models import ACTIVE_STATUSES, Run
from studio.teams import services
from studio.teams.models import Role

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def seed_objects(owner: User, teammate: User) -> dict[str, int]:
    """One of everything the API serves, owned by ``owner``; returns their ids by the
    collection they sit in."""
    model = services.save_model(
        owner,
        {"name": "Scripted", "provider": "scripted", "scripted_replies": ["Hi. APPROVE"] * 20},
    )
    agents = [
        services.save_agent(owner, {"name": name, "model": model.pk}) for name in ("one", "two")
    ]
    team = services.save_team(
        owner,
        {
            "name": "Pair",
            "participants": [agent.pk for agent in agents],
            "termination": {"type": "max_messages", "max_messages": 3},
        },
    )
    share = team.share_with(user=teammate, role=Role.VIEWER)
    credential = services.save_credential(owner, {"name": "Key", "provider": "anthropic"})
    run = run_services.start_run(owner, team.pk, "Say hi")
    wait_for_runs()
    return {
        "teams": team.pk,
        "agents": agents[0].pk,
        "models": model.pk,
        "credentials": credential.pk,
        "runs": run.pk,
        # not the token the fuzzer sends: revoking that one would lock it out
        "tokens": ApiToken.objects.issue(owner, name="spare")[0].pk,
        "share_id": share.pk,
        "number": 1,
    }


def wait_for_runs(limit: float = 15.0) -> None:
    """Wait until no run is queued, running or waiting (runs execute on another thread)."""
    deadline = time.monotonic() + limit
    while Run.objects.filter(status__in=ACTIVE_STATUSES).exists():
        if time.monotonic() > deadline:
            Run.objects.filter(status__in=ACTIVE_STATUSES).update(status="cancelled")
            return
        time.sleep(0.05)


@pytest.fixture
def api_schema(
    django_db_reset_sequences: None, owner: User, teammate: User, settings: Any
) -> Iterator[tuple[Any, dict[str, int]]]:
    """The API's schema, loaded through the app with the owner's bearer token, and the
    ids of the objects seeded for it."""
    settings.RUNS_BACKEND = "embedded"
    settings.RUNS_RECOVER_ON_START = False
    backends.get_backend.cache_clear()
    _, token = ApiToken.objects.issue(owner)
    headers = {"Authorization": f"Bearer {token}"}
    application = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application, headers=headers)
    schema.config.update(headers=headers)
    yield schema, seed_objects(owner, teammate)
    wait_for_runs()
    backends.get_backend.cache_clear()


def existing_ids(path: str, known: dict[str, int]) -> dict[str, int]:
    """Path parameters naming objects that exist: the first one by its collection."""
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return {}
    collection = path.split("/")[2]
    chosen = {names[0]: known[collection]}
    chosen.update({name: known[name] for name in names[1:] if name in known})
    return chosen if len(chosen) == len(names) else {}


def fuzz_operation(operation: Any, mode: GenerationMode, known: dict[str, int]) -> list[str]:
    """Run one operation's generated cases; return what went wrong (empty when nothing).

    Shrinking is off to keep the run bounded: a failure's report is its first case.
    """
    strategy = operation.as_strategy(generation_mode=mode)
    ids = existing_ids(operation.path, known)
    if ids:
        strategy = st.one_of(
            strategy, operation.as_strategy(generation_mode=mode, path_parameters=ids)
        )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    try:
        check()
    except Unsatisfiable:
        return []  # nothing to make invalid: the operation takes no parameters
    except (Exception, BaseExceptionGroup) as exc:  # report every operation, not the first
        return [f"{operation.label} ({mode.value}): {exc}"]
    return []


def test_no_request_makes_the_api_fail_or_break_its_schema(
    api_schema: tuple[Any, dict[str, int]],
) -> None:
    schema, known_ids = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    # Deleting last keeps the seeded objects there for every other operation.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += fuzz_operation(operation, mode, known_ids)
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
