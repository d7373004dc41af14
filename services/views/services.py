"""The registry's pages: the list of services, a service, and creating, editing and deleting
one (its token is write-only: sensitive_post_parameters keeps it out of error reports)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from services import access, snippets
from services.errors import Refusal
from services.forms import ServiceFilterForm, ServiceForm
from services.views.builder import starting_request

# The snippets "Call it from code" offers, where they can express the service's default request.
FROM_CODE = ("openai", "curl", "eas_sdk")


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
        "from_code": from_code(request, service),
    })


def from_code(request, service):
    """"Call it from code": the gateway's address of the service, on the host this page was
    asked on, and the request the builder starts from as key-mode snippets
    (services/snippets/, proven by running them): they read the key from the environment, and
    hold no secret."""
    portal = request.build_absolute_uri("/")
    shown = {"base": request.build_absolute_uri(reverse("gateway", args=[service.slug])),
             "url": "", "examples": []}
    try:
        gateway_request = snippets.via_gateway(
            snippets.from_request(service, starting_request(service)), portal)
    except Refusal:  # a default request no call could send: the address is still worth showing
        return shown
    shown["url"] = gateway_request.url
    for name in FROM_CODE:
        if snippets.unavailable_reason(gateway_request, name):
            continue
        try:
            text = snippets.render(gateway_request, name, "key")
        except Refusal:
            continue
        shown["examples"].append({"name": name, "label": snippets.TARGETS[name].label,
                                  "text": text})
    return shown


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
