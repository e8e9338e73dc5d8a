"""The project boots: settings, URLs, API schema, ASGI app and Celery app."""

from django.test import Client


def test_api_schema_is_served_to_logged_in_users(owner_client: Client) -> None:
    response = owner_client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Roundtable API"


def test_login_page_renders(db, anonymous_client: Client) -> None:
    response = anonymous_client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content


def test_asgi_application_imports() -> None:
    from studio.asgi import application

    assert set(application.application_mapping) == {"http", "websocket"}


def test_the_servers_websocket_frames_skip_autobahns_colouring() -> None:
    import autobahn.util
    import autobahn.websocket.protocol

    import studio.asgi  # noqa: F401

    # what autobahn builds for a debug line on every frame it sends: plain text, and
    # values as they are
    assert autobahn.util.hlval(42) == "42"
    assert "\x1b" not in autobahn.util.hltype(test_asgi_application_imports)
    assert autobahn.websocket.protocol.hlval(42) == 42
    # and on every connection: its configuration as a plain repr
    assert autobahn.websocket.protocol.pformat is repr


def test_celery_app_reads_json_only_settings() -> None:
    from studio.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_an_unknown_api_path_answers_with_a_json_404(owner_client) -> None:
    response = owner_client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json()["message"] == "No API endpoint at /api/no-such-thing."


def test_every_model_of_the_studio_has_an_admin_page_a_superuser_can_open(db, client) -> None:
    from django.apps import apps
    from django.contrib import admin
    from django.contrib.auth.models import User

    models = [
        model
        for model in apps.get_models()
        if model._meta.app_label in ("accounts", "teams", "runs")
    ]
    assert models and all(admin.site.is_registered(model) for model in models)
    client.force_login(User.objects.create_superuser("root", password="x"))
    for model in models:
        meta = model._meta
        response = client.get(f"/admin/{meta.app_label}/{meta.model_name}/?q=x")
        assert response.status_code == 200, meta.label
