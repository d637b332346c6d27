"""API of the service directory.

Public (no account, politely throttled, cacheable with ETag/Last-Modified): the service-point search,
one point, and the compact dataset for offline apps. Staff (content managers of the organisation that
keeps the row): create and edit points and providers, publish, archive, verify. The search is the one
the public pages use (`services.search_points`), so the web and the API never disagree.

`points` and `providers` hold the viewsets, `serializers` how rows are written, `common` what they share.
"""

from ventanilla.directory.api.common import PublicRateThrottle
from ventanilla.directory.api.points import ServicePointViewSet
from ventanilla.directory.api.providers import ServiceProviderViewSet
from ventanilla.directory.api.serializers import PROVIDER_KINDS

__all__ = ["PROVIDER_KINDS", "PublicRateThrottle", "ServicePointViewSet", "ServiceProviderViewSet"]
