"""A start checks its team's spec again; a spec without credentials that was found
runnable is not built a second time, while anything else that decides the answer (the
allowed private hosts, a credential's row) is looked at every time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from studio.teams import validation
from studio.teams.models import Credential, ModelConfig, spec_hash
from studio.teams.specs import model_spec, team_spec
from studio.teams.validation import RUNNABLE_SPECS, validate_spec
from tests.studio.runs.conftest import chatty_team


@pytest.fixture(autouse=True)
def no_memory() -> Iterator[None]:
    RUNNABLE_SPECS.clear()
    yield
    RUNNABLE_SPECS.clear()


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The specs validation builds, in order."""
    built: list[dict[str, Any]] = []
    real = validation.build_team

    def counting(spec: dict[str, Any], **options: Any) -> Any:
        built.append(spec)
        return real(spec, **options)

    monkeypatch.setattr(validation, "build_team", counting)
    return built


def spec_of(model: ModelConfig) -> dict[str, Any]:
    agent = {"kind": "assistant", "name": "helper", "model": model_spec(model)}
    return {"kind": "round_robin", "participants": [agent], "max_turns": 1}


def test_a_spec_without_credentials_found_runnable_is_not_built_again(
    owner: User, settings: Any, builds: list[dict[str, Any]]
) -> None:
    spec = team_spec(chatty_team(owner))
    digest = spec_hash(spec)
    assert validate_spec(spec, digest=digest) == []
    assert validate_spec(spec, digest=digest) == []
    assert len(builds) == 1
    # Without a digest, or with other private hosts allowed, it is checked again.
    assert validate_spec(spec) == []
    settings.MODEL_PRIVATE_HOSTS = ["localhost:11434"]
    assert validate_spec(spec, digest=digest) == []
    assert len(builds) == 3


def test_a_spec_that_cannot_run_is_checked_every_time(
    owner: User, builds: list[dict[str, Any]]
) -> None:
    model = ModelConfig.objects.create(owner=owner, name="m", provider="openai", model="gpt-4o")
    spec = spec_of(model)  # no credential and no base URL: it cannot run
    digest = spec_hash(spec)
    for _ in range(2):
        problems = validate_spec(spec, digest=digest)
        assert [problem.message for problem in problems] == ['model "m" has no credential']


def test_a_spec_naming_a_credential_is_checked_every_time(
    owner: User, builds: list[dict[str, Any]]
) -> None:
    credential = Credential.objects.create(owner=owner, name="key", provider="openai")
    credential.set_key("sk-test")
    credential.save()
    model = ModelConfig.objects.create(
        owner=owner, name="m", provider="openai", model="gpt-4o", credential=credential
    )
    spec = spec_of(model)
    digest = spec_hash(spec)
    assert validate_spec(spec, digest=digest) == []
    assert validate_spec(spec, digest=digest) == []
    assert len(builds) == 2
    # The credential's row changes while the spec stays the same: the change is seen.
    Credential.objects.filter(pk=credential.pk).update(provider="anthropic")
    problems = validate_spec(spec, digest=digest)
    assert [problem.path for problem in problems] == ["participants[0].model.credential"]
