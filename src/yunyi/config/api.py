"""Mounts every app's router on the one `/api/v1` API."""

from yunyi.core.api import build_api
from yunyi.identity.auth import BearerTokenAuth

api = build_api(auth=BearerTokenAuth())

from yunyi.accounts.api import router as accounts_router  # noqa: E402

api.add_router("/", accounts_router)
from yunyi.diagnosis.api import router as diagnosis_router  # noqa: E402
from yunyi.matching.api import router as matching_router  # noqa: E402
from yunyi.practitioners.api import router as practitioners_router  # noqa: E402

api.add_router("/", practitioners_router)
api.add_router("/", matching_router)
api.add_router("/", diagnosis_router)
from yunyi.emr.smart_api import router as smart_router  # noqa: E402

api.add_router("/", smart_router)
