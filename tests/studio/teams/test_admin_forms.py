"""The admin's forms for provider settings."""

from __future__ import annotations

import warnings

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import User
from django.db.models import Model
from django.test import RequestFactory
from django.utils.deprecation import RemovedInDjango60Warning

from studio.teams.models import Credential, ModelConfig

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Credential, ModelConfig])
def test_an_address_typed_without_a_scheme_is_taken_as_https(model: type[Model]) -> None:
    request = RequestFactory().get("/admin/")
    request.user = User.objects.create_superuser("root", "root@example.test", None)
    with warnings.catch_warnings():
        # Django's forms warn that their default scheme changes: ours is set, no warning
        warnings.simplefilter("error", RemovedInDjango60Warning)
        form = site._registry[model].get_form(request)
    field = form.base_fields["base_url"]
    assert field.clean("api.example.test/v1") == "https://api.example.test/v1"
    assert field.clean("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
