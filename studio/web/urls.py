"""Page URLs, and the static files (the studio serves its own; it has no front proxy)."""

from django.contrib.staticfiles.views import serve
from django.urls import URLPattern, URLResolver, path, re_path

from studio.web import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.team_list, name="web-team-list"),
    path("teams/<int:pk>/", views.team_builder, name="web-team-builder"),
    path("runs/", views.run_list, name="web-run-list"),
    path("runs/<int:pk>/", views.run_detail, name="web-run-detail"),
    path("runs/compare/", views.run_compare, name="web-run-compare"),
    path("models/", views.model_list, name="web-model-list"),
    path("settings/", views.settings_page, name="web-settings"),
    re_path(r"^static/(?P<path>.+)$", serve, {"insecure": True}, name="web-static"),
]
