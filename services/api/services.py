"""The registry: services, their endpoints and write-only tokens (docs/api.md, "Services")."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from ninja import Router, Status

from services import access, audit, probes, tokens
from services.api import schemas
from services.api.core import ERRORS, saving, validate
from services.errors import Refusal
from services.models import Service

router = Router(tags=["services"])


@sensitive_variables()
def _set_token(service, token):
    try:
        service.set_token(tokens.check_token_text(token))
    except tokens.TokenInvalid as exc:
        # The field's name, as the API's other field errors name theirs, and the translated why.
        raise Refusal(400, "token: " + str(exc)) from None


def _probe(service, changes):
    """The service's probe with the given changes, checked; None when none were given."""
    if changes is None:
        return None
    return probes.checked(service, {name: value for name, value in changes.items()
                                    if value is not None})


def _save(service, probe):
    with saving(service), transaction.atomic():
        service.save()
        if probe is not None:
            probe.service = service
            probes.save(probe)


@router.get("/services", response={200: list[schemas.ServiceOut], **ERRORS})
def service_list(request):
    services = access.services(request.user).select_related("team", "probe")
    return [schemas.service_out(service) for service in services]


@router.post("/services", response={201: schemas.ServiceOut, **ERRORS})
@transaction.atomic  # the service, its probe and the audit log's record, together
@sensitive_variables()
def service_create(request, payload: schemas.ServiceIn):
    """For maintainers of `team`; `token` is required and never comes back."""
    values = payload.model_dump()
    team = access.team_to_maintain(request.user, values.pop("team"), _("add services"))
    token = values.pop("token")
    probe_changes = values.pop("probe", None)
    service = Service(team=team, created_by=request.user, updated_by=request.user, **values)
    _set_token(service, token)
    validate(service)
    _save(service, _probe(service, probe_changes))
    audit.service_created(request.user, service)
    return Status(201, schemas.service_out(service))


@router.get("/services/{slug:slug}", response={200: schemas.ServiceOut, **ERRORS})
def service_get(request, slug: str):
    return schemas.service_out(access.service(request.user, slug))


@router.patch("/services/{slug:slug}", response={200: schemas.ServiceOut, **ERRORS})
@transaction.atomic
@sensitive_variables()
def service_patch(request, slug: str, payload: schemas.ServicePatch):
    """Change the given fields; an omitted, null or empty `token` keeps the stored one."""
    service = access.service(request.user, slug)
    access.require_maintainer(request.user, service.team, _("edit its services"))
    before = audit.service_settings(service)
    values = payload.model_dump(exclude_unset=True)
    token = values.pop("token", None)
    probe_changes = values.pop("probe", None)
    if "team" in values:
        service.team = access.team_to_maintain(request.user, values.pop("team"),
                                               _("receive services"))
    for field, value in values.items():
        setattr(service, field, value)
    if token and token.strip():
        _set_token(service, token)
    service.updated_by = request.user
    validate(service)
    _save(service, _probe(service, probe_changes))
    audit.service_changed(request.user, service, before)
    return schemas.service_out(service)


@router.delete("/services/{slug:slug}", response={204: None, **ERRORS})
def service_delete(request, slug: str):
    """The service's calls stay in history."""
    service = access.service(request.user, slug)
    access.require_maintainer(request.user, service.team, _("delete its services"))
    audit.delete_service(request.user, service)
    return Status(204, None)
