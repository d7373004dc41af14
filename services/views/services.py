"""The registry's pages: the list of services, a service, and creating, editing and deleting
one (its token is write-only: sensitive_post_parameters keeps it out of error reports)."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from services import access, audit, probes, snippets, status
from services.errors import Refusal
from services.forms import ProbeForm, ServiceFilterForm, ServiceForm
from services.views.builder import starting_request
from services.views.language import date_writer
from services.views.runs import recent_runs

# The snippets "Call it from code" offers, where they can express the service's default request.
FROM_CODE = ("openai", "curl", "eas_sdk")
# A saved request's snippets offered on the service page: those that express any request.
SAVED_SNIPPETS = ("curl", "python", "httpie", "fetch")
# Stands for a saved request's id in the URLs reversed once for the list.
ID_HOLE = 987654321
# What the saved requests' list shows: never the bodies, which may be up to 1 MB each.
SAVED_LISTED = ("id", "service_id", "name", "description", "method", "path", "created_by_id",
                "created_by_name", "updated_at")


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
    can_maintain = access.is_maintainer(request.user, service.team)
    return render(request, "services/services/service_detail.html", {
        "service": service,
        "can_maintain": can_maintain,
        "warnings": service.endpoint_warnings(),
        "from_code": from_code(request, service),
        "saved": saved_rows(request.user, service, can_maintain),
        "runs": recent_runs(service),
        "status": status.board(request.user, [service])[0],
        "saved_config": {
            "callsUrl": reverse("call_list"),
            "text": {
                "confirmDelete": _("Delete the saved request “%(name)s”? The team loses it; "
                                   "calls already made stay in history."),
                "sending": _("Sending…"),
                "unreachable": _("The portal could not be reached; nothing was done."),
                "httpError": _("The portal answered %(status)s; nothing was done."),
                "loggedOut": _("You are logged out: log in again, then try again."),
            },
        },
    })


# One row of the saved requests' list; the rows are written here rather than by the template
# language, whose per-variable work would cost about 0.2 ms a row (make bench, (k)).
SAVED_ROW = (
    '<tr class="saved-row" data-saved-id="{pk}"><td><strong class="saved-name">{name}</strong>'
    '{description}</td><td class="mono">{method} {path}</td><td>{by}</td><td>{when}</td>'
    '<td class="actions-cell"><div class="row-actions">{actions}{delete}</div>'
    '<p class="saved-problem" role="alert" hidden></p></td></tr>')
SAVED_DELETE = ('<button type="button" class="saved-delete danger" data-url="{url}" '
                'data-name="{name}">{label}</button>')


def saved_rows(user, service, can_maintain):
    """{"count", "rows": the HTML rows} of the service's saved requests, in one query and
    without their bodies. Each row has its actions (Open in builder, Send, Snippet, and for
    maintainers Capacity run…; the same for every row but the id: rendered once with ID_HOLE,
    filled in per row), and Delete for who may change it (its creator, or a maintainer)."""
    hole = str(ID_HOLE)
    builder_url = reverse("service_builder", args=[service.slug]) + "?saved=" + hole
    actions = render_to_string("services/services/saved_actions.html", {
        "builder_url": builder_url,
        # Capacity runs are the maintainers' (services/runs/control.py): the builder opens
        # with the saved request and its run dialog.
        "run_url": builder_url + "&run=1" if can_maintain else "",
        "invoke_url": reverse("api:saved_invoke", args=[ID_HOLE]),
        "snippets": [(snippets.TARGETS[name].label,
                      reverse("api:saved_snippet", args=[ID_HOLE]) + "?lang=" + name)
                     for name in SAVED_SNIPPETS],
    })
    one = reverse("api:saved_get", args=[ID_HOLE])
    delete_label = _("Delete")
    when = date_writer(_("Y-m-d H:i"))
    listed = list(service.saved_requests.only(*SAVED_LISTED))
    rows = []
    for kept in listed:
        pk = str(kept.pk)
        delete = ""
        if access.may_change_saved_request(user, kept, maintainer=can_maintain):
            delete = format_html(SAVED_DELETE, url=one.replace(hole, pk), name=kept.name,
                                 label=delete_label)
        description = (format_html('<br><span class="muted">{}</span>',
                                   linebreaksbr(kept.description, autoescape=True))
                       if kept.description else "")
        rows.append(format_html(
            SAVED_ROW, pk=pk, name=kept.name, description=description, method=kept.method,
            path=kept.path or "/", by=kept.created_by_name,
            when=when(timezone.localtime(kept.updated_at)),
            actions=mark_safe(actions.replace(hole, pk)), delete=delete))
    return {"count": len(listed), "rows": mark_safe("".join(rows))}


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
@sensitive_variables()
def service_create(request):
    if not access.may_add_services(request.user):
        if request.user.is_superuser:
            messages.info(request, _("A service belongs to a team: create the first team."))
            return redirect("team_create")
        raise Refusal(403, _("Only a team's maintainers can add services, and you maintain no "
                             "team."))
    form = ServiceForm(request.POST or None, user=request.user)
    probe_form = ProbeForm(request.POST or None)
    if _valid(form, probe_form):
        with transaction.atomic():
            service = form.save()
            probe_form.save_for(service)
            audit.service_created(request.user, service)
        messages.success(request, _("Service “%(name)s” created.") % {"name": service.name})
        return redirect("service_detail", slug=service.slug)
    return render(request, "services/services/service_form.html",
                  {"form": form, "probe_form": probe_form})


def _valid(form, probe_form):
    """Both forms valid, and a probe turned on only with a token the keys can read."""
    if not (form.is_valid() & probe_form.is_valid()):
        return False
    service = form.instance
    if form.cleaned_data.get("token"):  # the token being set is the one that counts
        return True
    return probe_form.check_token(service)


def _service_to_change(request, slug, action):
    service = access.service(request.user, slug)
    access.require_maintainer(request.user, service.team, action)
    return service


@sensitive_post_parameters("token")
@sensitive_variables()
def service_edit(request, slug):
    service = _service_to_change(request, slug, _("edit its services"))
    form = ServiceForm(request.POST or None, instance=service, user=request.user)
    probe_form = ProbeForm(request.POST or None, instance=probes.probe_of(service))
    if _valid(form, probe_form):
        with transaction.atomic():
            before = audit.service_settings(service)
            service = form.save()
            if probe_form.has_changed():
                probe_form.save_for(service)
            audit.service_changed(request.user, service, before)
        messages.success(request, _("Service “%(name)s” saved.") % {"name": service.name})
        return redirect("service_detail", slug=service.slug)
    return render(request, "services/services/service_form.html",
                  {"form": form, "probe_form": probe_form, "service": service})


def service_delete(request, slug):
    service = _service_to_change(request, slug, _("delete its services"))
    if request.method == "POST":
        audit.delete_service(request.user, service)
        messages.success(request, _("Service “%(name)s” deleted.") % {"name": service.name})
        return redirect("service_list")
    return render(request, "services/services/service_confirm_delete.html",
                  {"service": service})
