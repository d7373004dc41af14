"""The registry's pages: the list of services, a service, and creating, editing and deleting
one (its token is write-only: sensitive_post_parameters keeps it out of error reports)."""

import json
import shlex

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from services import access
from services.errors import Refusal
from services.forms import ServiceFilterForm, ServiceForm
from services.models import Service
from services.net import join
from services.net.errors import PathError

# A default body longer than this is not written into the examples: they read it from a file.
EXAMPLE_BODY_CHARS = 2000
KEY_VARIABLE = "EASPORTAL_KEY"


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


def _py(text):
    """A Python string literal, in double quotes (JSON's escapes are Python's) unless single
    quotes spare escaping a JSON body's quotes."""
    if '"' in text and "'" not in text:
        return repr(text)
    return json.dumps(text, ensure_ascii=False)


def from_code(request, service):
    """"Call it from code": the gateway's address of the service, on the host this page was
    asked on, and short examples, each quoted for its language. They name the key's
    environment variable, never a key or the service's token."""
    base = request.build_absolute_uri(reverse("gateway", kwargs={"slug": service.slug}))
    try:
        url = join.join_url(base, service.default_path)
    except PathError:  # a path stored before the rule: the examples still show the address
        url = base
    method = service.default_method
    body = "" if method in ("GET", "HEAD") else service.default_body
    from_file = len(body) > EXAMPLE_BODY_CHARS
    curl = [f"curl {shlex.quote(url)}", f'-H "Authorization: Bearer ${KEY_VARIABLE}"']
    if method == "HEAD":
        curl.append("--head")
    elif method != ("POST" if body else "GET"):  # what curl sends without -X
        curl.append(f"-X {method}")
    if body:
        curl += ["-H 'Content-Type: application/json'",
                 "--data-binary @body.json" if from_file else f"--data-raw {shlex.quote(body)}"]
    examples = {"base": base, "url": url, "curl": " \\\n  ".join(curl), "from_file": from_file}
    if method == "POST":  # the eas-prediction SDK only posts
        data = 'open("body.json", "rb").read()' if from_file else _py(body)
        examples["eas"] = "\n".join([
            "import os", "", "from eas_prediction import PredictClient, StringRequest", "",
            f"client = PredictClient(custom_url={_py(url)})",
            f'client.set_token(os.environ["{KEY_VARIABLE}"])',
            'client.set_content_type("application/json")',
            f"client.set_timeout({service.timeout_s * 1000})  # milliseconds",
            "client.set_retry_count(1)  # else it sends a failed request up to 5 times",
            "client.init()",
            f"response = client.predict(StringRequest({data}))",
            'print(response.response_data.decode("utf-8", "replace"))',
            "client.destroy()"])
    if service.kind == Service.Kind.LLM:
        examples["openai"] = _openai_example(base, service)
    return examples


def _openai_example(base, service):
    try:
        model = json.loads(service.default_body).get("model")
    except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, too deep
        model = None
    lines = ["import os", "", "from openai import OpenAI", "",
             "client = OpenAI(", f'    base_url={_py(base + "/v1")},',
             f'    api_key=os.environ["{KEY_VARIABLE}"],', ")"]
    if not isinstance(model, str):
        lines.append("model = client.models.list().data[0].id  # the service's first model")
    lines += ["response = client.chat.completions.create(",
              f"    model={_py(model) if isinstance(model, str) else 'model'},",
              '    messages=[{"role": "user", "content": "Hello!"}],', ")",
              "print(response.choices[0].message.content)"]
    return "\n".join(lines)


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
