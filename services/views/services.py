"""The registry's pages: the list of services, a service, and creating, editing and deleting
one (its token is write-only: sensitive_post_parameters keeps it out of error reports)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from services import access
from services.errors import Refusal
from services.forms import ServiceFilterForm, ServiceForm


def service_list(request):
    services = access.services(request.user).select_related("team")
    filters = ServiceFilterForm(request.GET or None, user=request.user)
    return render(request, "services/services/service_list.html", {
        "services": filters.filter(services),
        "filters": filters,
        "can_create": access.may_add_services(request.user),
    })


def service_detail(request, slug):
    service = access.service(request.user, slug)
    return render(request, "services/services/service_detail.html", {
        "service": service,
        "can_maintain": access.is_maintainer(request.user, service.team),
        "warnings": service.endpoint_warnings(),
    })


@sensitive_post_parameters("token")
def service_create(request):
    if not access.may_add_services(request.user):
        if request.user.is_superuser:
            messages.info(request, _("A service belongs to a team: create the first team."))
            return redirect("team_create")
        raise Refusal(403, _("Only a team's maintainers can add services, and you maintain no "
                             "team."))
    form = ServiceForm(request.POST or None, user=request.user)
    if form.is_valid():
        service = form.save()
        messages.success(request, _("Service “%(name)s” created.") % {"name": service.name})
        return redirect("service_detail", slug=service.slug)
    return render(request, "services/services/service_form.html", {"form": form})


def _service_to_change(request, slug, action):
    service = access.service(request.user, slug)
    access.require_maintainer(request.user, service.team, action)
    return service


@sensitive_post_parameters("token")
def service_edit(request, slug):
    service = _service_to_change(request, slug, _("edit its services"))
    form = ServiceForm(request.POST or None, instance=service, user=request.user)
    if form.is_valid():
        service = form.save()
        messages.success(request, _("Service “%(name)s” saved.") % {"name": service.name})
        return redirect("service_detail", slug=service.slug)
    return render(request, "services/services/service_form.html",
                  {"form": form, "service": service})


def service_delete(request, slug):
    service = _service_to_change(request, slug, _("delete its services"))
    if request.method == "POST":
        service.delete()
        messages.success(request, _("Service “%(name)s” deleted.") % {"name": service.name})
        return redirect("service_list")
    return render(request, "services/services/service_confirm_delete.html",
                  {"service": service})
