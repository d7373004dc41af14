from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from services.forms import MemberForm, RoleForm, ServiceFilterForm, ServiceForm, TeamForm
from services.models import LastMaintainer, Membership, Role, Service, Team


def _get_service_for_user(request, slug):
    # Other teams' services answer 404, never 403: their existence must not leak.
    services = Service.objects.for_user(request.user).select_related("team")
    return get_object_or_404(services, slug=slug)


def _get_team_for_user(request, slug):
    return get_object_or_404(Team.objects.for_user(request.user), slug=slug)


def _require_maintainer(request, team, action):
    if not team.is_maintainer(request.user):
        raise PermissionDenied(
            _("Only maintainers of the team “%(team)s” can %(action)s.")
            % {"team": team.name, "action": action}
        )


@login_not_required
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def service_list(request):
    services = Service.objects.for_user(request.user).select_related("team")
    filters = ServiceFilterForm(request.GET or None, user=request.user)
    return render(request, "services/service_list.html", {
        "services": filters.filter(services),
        "filters": filters,
        "can_create": Team.objects.maintained_by(request.user).exists(),
    })


def service_detail(request, slug):
    service = _get_service_for_user(request, slug)
    return render(request, "services/service_detail.html", {
        "service": service,
        "can_maintain": service.team.is_maintainer(request.user),
        "warnings": service.endpoint_warnings(),
    })


@sensitive_post_parameters("token")
def service_create(request):
    if not Team.objects.maintained_by(request.user).exists():
        if request.user.is_superuser:
            messages.info(request, _("A service belongs to a team: create the first team."))
            return redirect("team_create")
        raise PermissionDenied(
            _("Only a team's maintainers can add services, and you maintain no team.")
        )
    form = ServiceForm(request.POST or None, user=request.user)
    if form.is_valid():
        service = form.save()
        messages.success(request, _("Service “%(name)s” created.") % {"name": service.name})
        return redirect("service_detail", slug=service.slug)
    return render(request, "services/service_form.html", {"form": form})


@sensitive_post_parameters("token")
def service_edit(request, slug):
    service = _get_service_for_user(request, slug)
    _require_maintainer(request, service.team, _("edit its services"))
    form = ServiceForm(request.POST or None, instance=service, user=request.user)
    if form.is_valid():
        service = form.save()
        messages.success(request, _("Service “%(name)s” saved.") % {"name": service.name})
        return redirect("service_detail", slug=service.slug)
    return render(request, "services/service_form.html", {"form": form, "service": service})


def service_delete(request, slug):
    service = _get_service_for_user(request, slug)
    _require_maintainer(request, service.team, _("delete its services"))
    if request.method == "POST":
        service.delete()
        messages.success(request, _("Service “%(name)s” deleted.") % {"name": service.name})
        return redirect("service_list")
    return render(request, "services/service_confirm_delete.html", {"service": service})


def team_list(request):
    teams = Team.objects.for_user(request.user)
    roles = dict(
        Membership.objects.filter(user=request.user).values_list("team_id", "role")
    )
    rows = [(team, Role.MAINTAINER if request.user.is_superuser else roles.get(team.pk))
            for team in teams]
    return render(request, "services/team_list.html", {"rows": rows})


def team_create(request):
    if not request.user.is_superuser:
        raise PermissionDenied(_("Only administrators can create teams."))
    form = TeamForm(request.POST or None)
    if form.is_valid():
        team = form.save()
        Membership.objects.create(team=team, user=request.user, role=Role.MAINTAINER)
        messages.success(request, _("Team “%(name)s” created.") % {"name": team.name})
        return redirect("team_detail", slug=team.slug)
    return render(request, "services/team_form.html", {"form": form})


def team_detail(request, slug):
    team = _get_team_for_user(request, slug)
    can_maintain = team.is_maintainer(request.user)
    return render(request, "services/team_detail.html", {
        "team": team,
        "memberships": team.memberships.select_related("user"),
        "services": team.services.all(),
        "can_maintain": can_maintain,
        "member_form": MemberForm() if can_maintain else None,
        "roles": Role.choices,
    })


@require_POST
def team_member_add(request, slug):
    team = _get_team_for_user(request, slug)
    _require_maintainer(request, team, _("add members"))
    form = MemberForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("team_detail", slug=team.slug)
    membership, created = Membership.objects.get_or_create(
        team=team, user=form.member, defaults={"role": form.cleaned_data["role"]}
    )
    if created:
        messages.success(request, _("%(user)s added as %(role)s.") % {
            "user": form.member.username, "role": membership.get_role_display()})
    else:
        _change_role(request, membership, form.cleaned_data["role"])
    return redirect("team_detail", slug=team.slug)


@require_POST
def team_member_role(request, slug, username):
    team = _get_team_for_user(request, slug)
    _require_maintainer(request, team, _("change roles"))
    membership = _membership(team, username)
    form = RoleForm(request.POST)
    if form.is_valid():
        _change_role(request, membership, form.cleaned_data["role"])
    else:
        messages.error(request, _("Choose member or maintainer."))
    return redirect("team_detail", slug=team.slug)


@require_POST
def team_member_remove(request, slug, username):
    team = _get_team_for_user(request, slug)
    _require_maintainer(request, team, _("remove members"))
    membership = _membership(team, username)
    try:
        membership.remove()
    except LastMaintainer as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(user)s removed from the team.") % {
            "user": membership.user.username})
    return redirect("team_detail", slug=team.slug)


def _membership(team, username):
    return get_object_or_404(team.memberships.select_related("user"), user__username=username)


def _change_role(request, membership, role):
    if membership.role == role:
        messages.info(request, _("%(user)s is already %(role)s.") % {
            "user": membership.user.username, "role": membership.get_role_display()})
        return
    try:
        membership.change_role(role)
    except LastMaintainer as exc:
        messages.error(request, exc.message)
        return
    messages.success(request, _("%(user)s is now %(role)s.") % {
        "user": membership.user.username, "role": membership.get_role_display()})
