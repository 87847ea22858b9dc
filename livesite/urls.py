from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import urls as accounts_urls
from livesite import health, metrics
from moderation.room_admin import site as room_moderation_admin
from rooms.views import dashboard
from streaming import whip_views

urlpatterns = [
    path("", include("rooms.urls")),
    # The dashboard lists the user's rooms: a rooms page, at the account's address and
    # name (accounts:dashboard), so that accounts imports nothing of rooms.
    path(
        "accounts/",
        include(
            (
                [*accounts_urls.urlpatterns, path("dashboard/", dashboard, name="dashboard")],
                accounts_urls.app_name,
            )
        ),
    ),
    path("gifts/", include("gifts.urls")),
    path("moderation/", include("moderation.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("discovery.urls")),
    path("", include("clips.urls")),
    path("admin/", admin.site.urls),
    path("moderate/", room_moderation_admin.urls),
    path("api/", include("livesite.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (script-src 'self'); Swagger UI's
    # page keeps a small inline <style>, allowed on this page alone.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("whip/", whip_views.whip_endpoint, name="whip"),
    path("whip/<str:session_id>/", whip_views.whip_session, name="whip_session"),
    path("whep/<slug:slug>/", whip_views.whep_endpoint, name="whep"),
    path("whep/<slug:slug>/<str:session_id>/", whip_views.whep_session, name="whep_session"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

handler500 = "infra.db.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
