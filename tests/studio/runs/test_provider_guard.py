"""A run whose model points inside the server's network is refused after DNS, before any
request leaves, and says how to allow a local model server; a provider's error body is
never echoed beyond a short excerpt."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from studio.runs import services
from studio.runs.models import Status
from tests.fakes.llm_server import FakeLLMServer, error, text
from tests.studio.runs.conftest import remote_team, transcript, wait_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]


async def test_a_name_that_resolves_to_loopback_is_refused_when_connecting(
    owner: User, llm_server: FakeLLMServer, settings: object
) -> None:
    settings.MODEL_PRIVATE_HOSTS = []
    llm_server.script([text("internal secrets")])
    # "127.1" is no address literal; only resolving it shows it is loopback.
    url = llm_server.openai_url.replace("127.0.0.1", "127.1")
    team = await sync_to_async(remote_team)(owner, url)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Say hi")
    done = await wait_finished(run.pk)
    assert done.status == Status.FAILED
    assert "private, loopback or reserved" in done.stop_reason
    assert "MODEL_PRIVATE_HOSTS" in done.stop_reason
    assert llm_server.requests == []
    events = await sync_to_async(transcript)(run.pk)
    assert not any("internal secrets" in str(event.data) for event in events)


async def test_an_allowed_local_server_is_used_and_its_error_body_is_cut_short(
    owner: User, llm_server: FakeLLMServer, settings: object
) -> None:
    settings.MODEL_PRIVATE_HOSTS = ["127.0.0.0/8"]
    body = "root:x:0:0:root:/root:/bin/bash\n" * 400
    llm_server.script([error(400, body)])
    url = llm_server.openai_url.replace("127.0.0.1", "127.1")
    team = await sync_to_async(remote_team)(owner, url)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Say hi")
    done = await wait_finished(run.pk)
    assert done.status == Status.FAILED
    assert len(llm_server.requests) == 1
    assert "root:x:0:0" in done.stop_reason
    assert len(done.stop_reason) < 500
    assert "\n" not in done.stop_reason
