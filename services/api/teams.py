"""Teams and their members (docs/api.md, "Teams")."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from ninja import Router, Status

from services import access, audit
from services.api import schemas
from services.api.core import ERRORS, saving, validate
from services.errors import Refusal
from services.models import Role, Team

router = Router(tags=["teams"])


@router.get("/teams", response={200: list[schemas.TeamOut], **ERRORS})
def team_list(request):
    """Your teams with your role (superusers: every team, as maintainer)."""
    return [schemas.team_out(team, role) for team, role in access.teams_with_roles(request.user)]


@router.post("/teams", response={201: schemas.TeamOut, **ERRORS})
def team_create(request, payload: schemas.TeamIn):
    """Superusers only; the creator becomes the team's maintainer."""
    access.require_team_creator(request.user)
    team = Team(slug=payload.slug, name=payload.name)
    validate(team)
    with saving(team):
        team.save_with_maintainer(request.user)
    return Status(201, schemas.team_out(team, Role.MAINTAINER))


@router.get("/teams/{slug:slug}/members", response={200: list[schemas.MemberOut], **ERRORS})
def member_list(request, slug: str):
    team = access.team(request.user, slug)
    rows = team.memberships.order_by("user__username").values_list("user__username", "role")
    return [{"username": username, "role": role} for username, role in rows]


@router.post("/teams/{slug:slug}/members",
             response={200: schemas.MemberOut, 201: schemas.MemberOut, **ERRORS})
def member_put(request, slug: str, payload: schemas.MemberIn):
    """Add a user (201), or change the role of a member (200)."""
    team = access.team(request.user, slug)
    access.require_maintainer(request.user, team, _("add members"))
    user = get_user_model().objects.filter(username=payload.username.strip()).first()
    if user is None:
        raise Refusal(400, _("username: there is no user named “%(name)s”.")
                      % {"name": payload.username})
    membership, outcome = audit.put_member(request.user, team, user, payload.role)
    return Status(201 if outcome == "added" else 200,
                  {"username": user.username, "role": membership.role})


@router.delete("/teams/{slug:slug}/members/{username}", response={204: None, **ERRORS})
def member_delete(request, slug: str, username: str):
    team = access.team(request.user, slug)
    access.require_maintainer(request.user, team, _("remove members"))
    audit.remove_member(request.user, access.member(team, username))
    return Status(204, None)
