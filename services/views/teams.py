"""Team pages: the list, a team with its members and services, and member changes."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from services import access, audit
from services.errors import Refusal
from services.forms import MemberForm, RoleForm, TeamForm
from services.models import Role


def team_list(request):
    return render(request, "services/teams/team_list.html",
                  {"rows": access.teams_with_roles(request.user)})


def team_create(request):
    access.require_team_creator(request.user)
    form = TeamForm(request.POST or None)
    if form.is_valid():
        team = form.save(commit=False)
        team.save_with_maintainer(request.user)
        messages.success(request, _("Team “%(name)s” created.") % {"name": team.name})
        return redirect("team_detail", slug=team.slug)
    return render(request, "services/teams/team_form.html", {"form": form})


def team_detail(request, slug):
    team = access.team(request.user, slug)
    can_maintain = access.is_maintainer(request.user, team)
    return render(request, "services/teams/team_detail.html", {
        "team": team,
        "memberships": team.memberships.select_related("user"),
        "services": team.services.all(),
        "can_maintain": can_maintain,
        "member_form": MemberForm() if can_maintain else None,
        "roles": Role.choices,
    })


def _team_to_change(request, slug, action):
    team = access.team(request.user, slug)
    access.require_maintainer(request.user, team, action)
    return team


@require_POST
def team_member_add(request, slug):
    team = _team_to_change(request, slug, _("add members"))
    form = MemberForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("team_detail", slug=team.slug)
    _put_member(request, team, form.member, form.cleaned_data["role"])
    return redirect("team_detail", slug=team.slug)


@require_POST
def team_member_role(request, slug, username):
    team = _team_to_change(request, slug, _("change roles"))
    membership = access.member(team, username)
    form = RoleForm(request.POST)
    if form.is_valid():
        _put_member(request, team, membership.user, form.cleaned_data["role"])
    else:
        messages.error(request, _("Choose member or maintainer."))
    return redirect("team_detail", slug=team.slug)


@require_POST
def team_member_remove(request, slug, username):
    team = _team_to_change(request, slug, _("remove members"))
    membership = access.member(team, username)
    try:
        audit.remove_member(request.user, membership)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(user)s removed from the team.") % {
            "user": membership.user.username})
    return redirect("team_detail", slug=team.slug)


def _put_member(request, team, user, role):
    try:
        membership, outcome = audit.put_member(request.user, team, user, role)
    except Refusal as exc:
        messages.error(request, exc.message)
        return
    text = {
        "added": _("%(user)s added as %(role)s."),
        "changed": _("%(user)s is now %(role)s."),
        "unchanged": _("%(user)s is already %(role)s."),
    }[outcome] % {"user": user.username, "role": membership.get_role_display()}
    (messages.info if outcome == "unchanged" else messages.success)(request, text)
