"""`/api/v1/matching/...`: recommendations for patients, batch assignment and service regions for
operators and admins. The algorithms are the plain modules beside this one."""

from ninja import Router

router = Router(tags=["matching"])
