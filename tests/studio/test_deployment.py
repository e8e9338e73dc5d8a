"""Production settings come from the environment, pass `check --deploy`, and every page
carries a Content-Security-Policy that forbids inline code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefghijk",
    "CREDENTIALS_SECRET": "another-long-secret-for-stored-provider-keys",
    "ALLOWED_HOSTS": "studio.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://studio.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
}


def manage(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py in a child process with exactly the Roundtable variables given."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    clean.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="studio.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def shell_json(tmp_path: Path, env: dict[str, str], script: str) -> Any:
    """What ``script`` prints last, as JSON, run by ``manage.py shell`` in a child process
    (settings read the environment once, at import)."""
    result = manage(tmp_path, env, "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def read_settings(tmp_path: Path, env: dict[str, str], *names: str) -> dict[str, object]:
    script = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    settings: dict[str, object] = shell_json(tmp_path, env, script)
    return settings


def test_a_production_profile_passes_check_deploy_without_a_warning(tmp_path: Path) -> None:
    result = manage(tmp_path, PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_still_warns_about_an_unsecured_profile(tmp_path: Path) -> None:
    insecure = {**PRODUCTION, "SESSION_COOKIE_SECURE": "false"}
    result = manage(tmp_path, insecure, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W012" in result.stderr


def test_https_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    values = read_settings(
        tmp_path,
        {**PRODUCTION, "TRUST_X_FORWARDED_PROTO": "true"},
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
    )
    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_a_malformed_https_setting_names_the_variable(tmp_path: Path) -> None:
    result = manage(tmp_path, {"SECURE_HSTS_SECONDS": "a year"}, "check")
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS must be a whole number" in result.stderr


def test_by_default_the_studio_serves_plain_http_on_localhost(settings) -> None:
    assert settings.SECURE_SSL_REDIRECT is False
    assert settings.SESSION_COOKIE_SECURE is False and settings.CSRF_COOKIE_SECURE is False
    assert settings.SECURE_HSTS_SECONDS == 0


def test_throttles_share_a_database_cache_or_redis_when_redis_is_configured(
    tmp_path: Path,
) -> None:
    embedded = read_settings(tmp_path, {}, "CACHES")["CACHES"]["default"]
    assert embedded["BACKEND"] == "studio.database_cache.DatabaseCache"
    distributed = read_settings(tmp_path, {"REDIS_URL": "redis://127.0.0.1:6399/0"}, "CACHES")[
        "CACHES"
    ]["default"]
    assert distributed["BACKEND"] == "studio.redis_pool.SharedClientRedisCache"
    assert distributed["LOCATION"] == "redis://127.0.0.1:6399/0"


# --- Content-Security-Policy ---


def policy_of(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/", "/runs/", "/models/", "/admin/", "/api/docs"]
)
def test_every_page_sends_a_policy_that_allows_no_inline_code(path: str, db) -> None:
    client = Client()
    if path != "/accounts/login/":
        client.force_login(User.objects.create_superuser("root", password="x"))
    response = client.get(path)
    assert response.status_code == 200, path
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert "ws://testserver" in policy["connect-src"]


def test_a_secure_request_may_open_secure_websockets_only(db, owner_client: Client) -> None:
    response = owner_client.get("/", secure=True)
    assert policy_of(response)["connect-src"] == ["'self'", "wss://testserver"]


def test_templates_carry_no_inline_scripts_styles_or_handlers() -> None:
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|<style\b|\sstyle=|\son[a-z]+=",
        re.IGNORECASE,
    )
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in (ROOT / "templates").rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("backend", "warns"),
    [
        ("django.core.cache.backends.locmem.LocMemCache", True),
        ("django.core.cache.backends.dummy.DummyCache", True),
        ("django.core.cache.backends.db.DatabaseCache", False),
        ("studio.database_cache.DatabaseCache", False),
        ("django.core.cache.backends.redis.RedisCache", False),
    ],
)
def test_a_cache_other_processes_cannot_see_is_reported(
    settings, backend: str, warns: bool
) -> None:
    from studio.checks import check_throttle_cache

    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "roundtable_cache"}}
    ids = [problem.id for problem in check_throttle_cache(None)]
    assert ids == (["roundtable.W003"] if warns else [])


def test_the_distributed_mode_on_sqlite_is_reported(settings) -> None:
    from django.db import connection

    from studio.checks import check_database_for_distributed_mode

    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    ids = [problem.id for problem in check_database_for_distributed_mode(None)]
    assert ids == (["roundtable.W001"] if connection.vendor == "sqlite" else [])
    settings.REDIS_URL = ""
    assert check_database_for_distributed_mode(None) == []
