"""The status board (docs/api.md, "Probes and status"): each service of your teams, as its probe
last found it."""

from django.http import JsonResponse
from ninja import Field, Router, Schema

from services import status
from services.api.core import ERRORS

router = Router(tags=["status"])


class StatusOut(Schema):
    service: str
    state: str = Field(description="up, down or unknown (no probe on, or it could not send).")
    last_checked_at: str | None
    last_latency_ms: float | None
    uptime_24h: float | None = Field(description="0 to 1: the share of the last 24 hours' "
                                                 "checks that found it up; null without any.")
    last_error: str | None


@router.get("/status", response={200: list[StatusOut], **ERRORS})
def status_board(request):
    """Your teams' services, by team and name, with their probe's state and figures."""
    return JsonResponse([row.as_json() for row in status.board(request.user)], safe=False)
