"""Top-level URLs: admin, login/logout, the JSON API and the pages."""

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path

from studio.api import api
from studio.errors import error_response
from studio.health import health
from studio.runs.stats import stats_page


def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown API paths answer in the API's JSON error shape, not with an HTML page."""
    return error_response(f"No API endpoint at {request.path}.", 404)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("studio.accounts.urls")),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),
    path("health/", health, name="health"),
    path("runs/stats/", stats_page, name="runs-stats"),
    path("", include("studio.web.urls")),
]

# The studio's own error pages (JSON under /api/).
handler403 = "studio.web.errors.permission_denied"
handler404 = "studio.web.errors.page_not_found"
handler500 = "studio.web.errors.server_error"
