"""A canary key: used for real against the fake provider, then looked for everywhere a
key could leak to: every API answer, export, page and admin page, error pages, run
events, checkpoints, stop reasons, database dumps and log lines. It must reach the
provider's Authorization header and nothing else."""

from __future__ import annotations

import json
import logging
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from studio.runs import services as run_services
from studio.runs.models import Checkpoint, Run, RunEvent
from tests.fakes.llm_server import FakeLLMServer, error, text
from tests.studio.conftest import logged_in_client
from tests.studio.runs.conftest import wait_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]

STORED = "sk-canary-stored-5f1e2d3c4b5a6978"
LENT = "sk-canary-lent-0a1b2c3d4e5f6071"


def build(owner: User, url: str) -> dict[str, int]:
    """A stored-key and an env-key credential, a model on each, and a team per model."""
    client = logged_in_client(owner)

    def post(path: str, data: dict) -> dict:
        response = client.post(path, data, content_type="application/json")
        assert response.status_code == 201, response.content
        return response.json()

    stored = post(
        "/api/credentials",
        {"name": "stored", "provider": "openai_compatible", "api_key": STORED, "base_url": url},
    )
    lent = post(
        "/api/credentials",
        {"name": "lent", "provider": "openai_compatible", "key_env_var": "RT_CANARY_KEY"},
    )
    ids = {"stored": stored["id"], "lent": lent["id"]}
    for name, credential in (("stored", stored), ("lent", lent)):
        model = post(
            "/api/models",
            {
                "name": f"{name} model",
                "provider": "openai_compatible",
                "model": "gpt-test",
                "credential": credential["id"],
                "params": {"max_retries": 0},
            },
        )
        agent = post("/api/agents", {"name": f"{name}_agent", "model": model["id"]})
        team = post(
            "/api/teams",
            {
                "name": f"{name} team",
                "participants": [agent["id"]],
                "termination": {"type": "max_messages", "max_messages": 2},
            },
        )
        ids[f"{name}_model"], ids[f"{name}_team"] = model["id"], team["id"]
    return ids


def every_answer(owner: User, ids: dict[str, int]) -> list[bytes]:
    """The bodies of every read a user or an admin can make about these objects."""
    client = logged_in_client(owner)
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.test", None))
    paths = ["/api/teams", "/api/agents", "/api/models", "/api/credentials", "/api/runs"]
    paths += ["/", "/runs/", "/models/", "/api/openapi.json", "/no/such/page/", "/api/nope"]
    for key in ("stored", "lent"):
        team = ids[f"{key}_team"]
        paths += [
            f"/api/credentials/{ids[key]}",
            f"/api/models/{ids[f'{key}_model']}",
            f"/api/teams/{team}",
            f"/api/teams/{team}/export?format=autogen",
            f"/api/teams/{team}/export?format=roundtable",
            f"/api/teams/{team}/versions",
            f"/api/teams/{team}/versions/1",
            f"/teams/{team}/",
        ]
    for run in Run.objects.all():
        paths += [f"/api/runs/{run.pk}", f"/api/runs/{run.pk}/events", f"/runs/{run.pk}/"]
    bodies = [client.get(path).content for path in paths]
    bodies.append(client.post(f"/api/teams/{ids['stored_team']}/validate").content)
    admin_paths = ["/admin/teams/credential/", "/admin/teams/modelconfig/", "/admin/runs/run/"]
    admin_paths += ["/admin/runs/runevent/", "/admin/runs/checkpoint/"]
    admin_paths += [f"/admin/teams/credential/{ids[key]}/change/" for key in ("stored", "lent")]
    admin_paths += [f"/admin/runs/run/{run.pk}/change/" for run in Run.objects.all()]
    for path in admin_paths:
        response = admin.get(path)
        assert response.status_code == 200, path
        bodies.append(response.content)
    return bodies


def stored_records() -> list[str]:
    """Everything the runs wrote, and a dump of the whole database."""
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    records = [dump.getvalue()]
    records += [json.dumps(event.data) for event in RunEvent.objects.all()]
    records += [point.state_json for point in Checkpoint.objects.all()]
    records += [f"{run.stop_reason} {run.task}" for run in Run.objects.all()]
    return records


async def test_a_key_reaches_its_provider_and_nothing_else(
    owner: User,
    llm_server: FakeLLMServer,
    settings: object,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.MODEL_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.CREDENTIAL_KEY_ENV_VARS = {"RT_CANARY_KEY": llm_server.openai_url}
    monkeypatch.setenv("RT_CANARY_KEY", LENT)
    ids = await sync_to_async(build)(owner, llm_server.openai_url)
    llm_server.script(
        [
            text("All good."),
            error(401, f"Incorrect API key provided: {STORED}"),
            error(401, f"Incorrect API key provided: {LENT}"),
        ]
    )
    for team in ("stored_team", "stored_team", "lent_team"):
        run = await sync_to_async(run_services.start_run)(owner, ids[team], "Say hi")
        await wait_finished(run.pk)

    sent = [request.headers.get("authorization", "") for request in llm_server.requests]
    assert sent == [f"Bearer {STORED}", f"Bearer {STORED}", f"Bearer {LENT}"]
    bodies = await sync_to_async(every_answer)(owner, ids)
    records = await sync_to_async(stored_records)()
    for canary in (STORED, LENT):
        assert not [body[:200] for body in bodies if canary.encode() in body]
        assert not [record[:200] for record in records if canary in record]
        assert canary not in caplog.text
