"""Saved requests (docs/api.md, "Saved requests"): kept per service and shared with its team;
members save them, the one who saved a request or a maintainer changes or deletes it."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from services import access, calls, saved
from services.api import call_schemas, schemas
from services.api.calls import body_of, call_response
from services.api.core import ERRORS
from services.errors import Refusal
from services.models import SavedRequest

router = Router(tags=["saved requests"])
# The fields of a request, as an invoke body has them.
REQUEST_FIELDS = ("endpoint", "method", "path", "headers", "body", "body_base64")


def _answer(saved_request, status=200):
    return JsonResponse(schemas.saved_out(saved_request, saved_request.service.slug),
                        status=status)


@router.get("/services/{slug:slug}/requests", response={200: list[schemas.SavedOut], **ERRORS})
def saved_list(request, slug: str):
    """The service's saved requests, by name."""
    service = access.service(request.user, slug)
    return JsonResponse([schemas.saved_out(kept, service.slug)
                         for kept in service.saved_requests.all()], safe=False)


@router.post("/services/{slug:slug}/requests",
             response={201: schemas.SavedOut, 413: schemas.ErrorOut, **ERRORS})
def saved_create(request, slug: str, payload: schemas.SavedIn):
    """Keep a request for the team: any member may."""
    service = access.service(request.user, slug)
    if payload.call is not None:
        given = [field for field in REQUEST_FIELDS if getattr(payload, field) is not None]
        if given:
            raise Refusal(400, _("Give either call or the request's fields (%(fields)s), not "
                                 "both.") % {"fields": ", ".join(given)})
        kept = access.call(request.user, payload.call)
        if kept.service_id != service.pk:
            raise Refusal(400, _("call: the call %(id)s is not a call of “%(slug)s”.")
                          % {"id": payload.call, "slug": service.slug})
        wanted = saved.request_of_call(kept)
    else:
        wanted = calls.CallRequest(endpoint=payload.endpoint, method=payload.method,
                                   path=payload.path, headers=payload.headers,
                                   body=body_of(payload))
    new = SavedRequest(service=service, created_by=request.user,
                       created_by_name=request.user.get_username())
    saved.describe(new, name=payload.name, description=payload.description)
    saved.fill(new, service, wanted)
    new.save()
    return _answer(new, status=201)


@router.get("/requests/{int:id}", response={200: schemas.SavedOut, **ERRORS})
def saved_get(request, id: int):
    return _answer(access.saved_request(request.user, id))


@router.patch("/requests/{int:id}",
              response={200: schemas.SavedOut, 413: schemas.ErrorOut, **ERRORS})
def saved_patch(request, id: int, payload: schemas.SavedPatch):
    """Change the given fields: for the one who saved it, or a maintainer of the team."""
    kept = access.saved_request(request.user, id)
    access.require_saved_request_editor(request.user, kept, _("change it"))
    changes = payload.model_dump(exclude_unset=True)
    saved.describe(kept, **changes)
    if any(field in changes for field in REQUEST_FIELDS):
        now = saved.call_request(kept)
        if "body" in changes or "body_base64" in changes:
            now.body = body_of(payload)
        for field in ("endpoint", "method", "path", "headers"):
            if field in changes:
                setattr(now, field, changes[field])
        saved.fill(kept, kept.service, now)
    kept.save()
    return _answer(kept)


@router.delete("/requests/{int:id}", response={204: None, **ERRORS})
def saved_delete(request, id: int):
    kept = access.saved_request(request.user, id)
    access.require_saved_request_editor(request.user, kept, _("delete it"))
    kept.delete()
    return Status(204, None)


@router.post("/requests/{int:id}/invoke",
             response={200: call_schemas.CallOut, 413: schemas.ErrorOut, **ERRORS})
def saved_invoke(request, id: int):
    """Send the saved request as it is; 400 while it holds a redacted value."""
    kept = access.saved_request(request.user, id)
    call = calls.call(request.user, kept.service, saved.sendable(kept))
    return call_response(call, call.team.slug)
