"""The only module that knows every app."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from advocacy import api as advocacy_api
from analytics import api_urls as analytics_api_urls
from archive import api_urls as archive_api_urls
from challenges import api_urls as challenges_api_urls
from content import api as content_api
from content import api_chains as content_api_chains
from digests import api_urls as digests_api_urls
from messaging import api_urls as messaging_api_urls
from notifications import pwa
from notifications.api import NotificationViewSet
from nudges import api_urls as nudges_api_urls
from organizations import api as org_api
from organizations.health import healthz
from organizations.media import media_serve
from privacy import api_urls as privacy_api_urls

# The Django admin signs people in through allauth's login (password, then the second
# factor), never through its own password-only form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]


class NumericIdRouter(DefaultRouter):
    """Object ids in API paths are numbers unless a viewset says otherwise: anything else
    is a 404 at routing, never a 500 in a view that reads the id."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):  # type: ignore[no-untyped-def]
        if getattr(viewset, "lookup_value_regex", None) is None:
            viewset = type(viewset.__name__, (viewset,), {"lookup_value_regex": "[0-9]+"})
        return super().get_lookup_regex(viewset, lookup_prefix)


router = NumericIdRouter()
router.register("auth/tokens", org_api.ApiTokenViewSet, basename="api-token")
router.register("teams", org_api.TeamViewSet, basename="team")
router.register("users", org_api.MemberViewSet, basename="user")
router.register("invitations", org_api.InvitationViewSet, basename="invitation")
router.register("audit-log", org_api.AuditLogViewSet, basename="audit-log")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("contents", content_api.ContentViewSet, basename="content")
router.register("feed", content_api.FeedViewSet, basename="feed-item")
router.register("suggestions", content_api.SuggestionViewSet, basename="suggestion")
router.register("topics", content_api.TopicViewSet, basename="topic")
router.register("feeds", content_api.FeedSubscriptionViewSet, basename="feed-subscription")
for prefix, viewset, basename in content_api_chains.ROUTES:
    router.register(prefix, viewset, basename=basename)
router.register("shares", advocacy_api.ShareViewSet, basename="share")

api_v1 = [
    path("auth/token/", org_api.TokenView.as_view(), name="api_token"),
    path("auth/logout-all/", org_api.LogoutAllView.as_view(), name="api_logout_all"),
    path("me/", org_api.MeView.as_view(), name="api_me"),
    path("me/organizations/", org_api.MyOrganizationsView.as_view(), name="api_my_organizations"),
    path(
        "compliance/check/", content_api.ComplianceCheckView.as_view(), name="api_compliance_check"
    ),
    path("queue/", advocacy_api.QueueView.as_view(), name="api_queue"),
    path("sharing/pause/", advocacy_api.PauseView.as_view(), name="api_sharing_pause"),
    *challenges_api_urls.urlpatterns,
    *analytics_api_urls.urlpatterns,
    *archive_api_urls.urlpatterns,
    *digests_api_urls.urlpatterns,
    *messaging_api_urls.urlpatterns,
    *nudges_api_urls.urlpatterns,
    *privacy_api_urls.urlpatterns,
    *router.urls,
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The installable app: the service worker is served from the root to control every page.
    path("manifest.webmanifest", pwa.manifest, name="web_manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("django-admin/", admin.site.urls),
    path("notifications/", include("notifications.urls")),
    path("", include("content.urls")),
    path("", include("advocacy.urls")),
    path("", include("challenges.urls")),
    path("", include("analytics.urls")),
    path("", include("archive.urls")),
    path("", include("digests.urls")),
    path("", include("messaging.urls")),
    path("", include("nudges.urls")),
    path("", include("provisioning.urls")),
    path("", include("sso.urls")),
    path("", include("twofactor.urls")),
    path("", include("privacy.urls")),
    path("", include("organizations.urls")),
]

# Uploaded files, in every environment, after an access check (organizations.media);
# production hands the sending to nginx with X-Accel-Redirect.
urlpatterns.append(path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media_serve, name="media"))
