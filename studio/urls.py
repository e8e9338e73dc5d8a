"""Top-level URLs: admin, login/logout, the JSON API and the pages."""

from django.contrib import admin
from django.urls import include, path

from studio.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("studio.accounts.urls")),
    path("api/", api.urls),
    path("", include("studio.web.urls")),
]
