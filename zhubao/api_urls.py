"""The REST API, mounted at /api/ (namespace ``api``).

/api/v1/ holds the resources (a DRF router, ``<int:pk>`` lookups, no format suffixes) and
the token endpoint; /api/schema/ is the OpenAPI 3 schema and /api/docs/ its Swagger UI,
served from drf-spectacular-sidecar's local static files (no CDN).
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from accounts.api import TokenObtainView, TokenRevokeView, UserViewSet
from core.api import LocalSwaggerView
from grid.api import GridViewSet, HouseholdViewSet, OrgNodeViewSet
from liaison.api import PairingViewSet, WorkGroupViewSet, WorkTeamViewSet

app_name = "api"


class ApiRouter(DefaultRouter):
    include_format_suffixes = False


router = ApiRouter(use_regex_path=False)
router.register("org-nodes", OrgNodeViewSet, basename="org-node")
router.register("households", HouseholdViewSet, basename="household")
router.register("grids", GridViewSet, basename="grid")
router.register("users", UserViewSet, basename="user")
router.register("work-teams", WorkTeamViewSet, basename="work-team")
router.register("work-groups", WorkGroupViewSet, basename="work-group")
router.register("pairings", PairingViewSet, basename="pairing")

urlpatterns = [
    path("v1/auth/token/", TokenObtainView.as_view(), name="token"),
    path("v1/auth/token/revoke/", TokenRevokeView.as_view(), name="token-revoke"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", LocalSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
