import json
import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from services import probes
from services.management.language import in_the_shells_language
from services.models import Membership, Role, Service, Team


def demo_services():
    """{name: {"token", "kind", "model"}}: the demo set that the emulator serves by default, read
    as data from its file because the portal does not import the emulator package."""
    with open(settings.BASE_DIR / "emulator" / "demo.json", encoding="utf-8") as file:
        services = json.load(file)["services"]
    # The defaults of the emulator's config format, for an entry that leaves them out.
    return {name: {"kind": "custom", "model": name, **entry} for name, entry in services.items()}


def demo_defaults(kind, model):
    """(kind, name, path, body) of a demo service: a request that works on the emulator."""
    if kind == "llm":
        return Service.Kind.LLM, f"Demo chat ({model})", "/v1/chat/completions", {
            "model": model, "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "hello!"}]}
    if kind == "model_gallery":
        return Service.Kind.MODEL_GALLERY, f"Demo reranker ({model})", "/v1/rerank", {
            "model": model, "query": "What is the capital of China?", "top_n": 2,
            "documents": ["Beijing is the capital of China.", "Gravity pulls apples down.",
                          "Shanghai is the largest city of China."]}
    if kind == "processor":
        return Service.Kind.PROCESSOR, f"Demo processor ({model})", "", "hello"
    return Service.Kind.CUSTOM, f"Demo echo ({model})", "/echo", {"hello": "world"}


class Command(BaseCommand):
    help = "Create or update the demo team and its services, which call the local EAS emulator."

    def add_arguments(self, parser):
        parser.add_argument("--emulator-port", type=int,
                            help="where eas_emulator listens; default: EMULATOR_PORT, else 8001")

    @in_the_shells_language
    def handle(self, *args, emulator_port, **options):
        try:
            port = int(emulator_port or os.environ.get("EMULATOR_PORT") or 8001)
        except ValueError:
            raise CommandError("EMULATOR_PORT must be a port number.") from None
        demo = demo_services()
        created = 0
        with transaction.atomic():
            team, _created = Team.objects.update_or_create(slug="demo", defaults={"name": "Demo"})
            for name, entry in demo.items():
                service = Service.objects.filter(slug=name).first() or Service(slug=name)
                if service.pk and service.team_id != team.pk:
                    raise CommandError(f"The slug {name!r} is taken by a service of team "
                                       f"{service.team.slug!r}; rename that one and run "
                                       "seed_demo again.")
                created += service.pk is None
                self.fill(service, team, name, entry, port)
                service.save()
                # The demo services' probes are on, so that the status board has something
                # to show from the start: each one's default request, every minute.
                probe = probes.probe_of(service)
                probe.enabled, probe.interval_s = True, 60
                probes.save(probe)
            for user in get_user_model().objects.filter(is_superuser=True):
                Membership.objects.update_or_create(team=team, user=user,
                                                    defaults={"role": Role.MAINTAINER})
        self.stdout.write(_("Demo team: %(created)s service(s) created, %(updated)s updated, "
                            "calling the emulator on %(url)s.")
                          % {"created": created, "updated": len(demo) - created,
                             "url": f"http://127.0.0.1:{port}"})

    def fill(self, service, team, name, entry, port):
        kind, title, path, body = demo_defaults(entry["kind"], entry["model"])
        service.team, service.kind, service.name = team, kind, title
        service.gateway = Service.Gateway.SHARED
        service.public_endpoint = f"http://127.0.0.1:{port}/api/predict/{name}"
        service.vpc_endpoint = ""
        service.default_endpoint = Service.EndpointKind.PUBLIC
        service.default_method = Service.Method.POST
        service.default_path = path
        service.default_body = body if isinstance(body, str) else json.dumps(body, indent=2)
        service.description = ("A demo service on the local EAS emulator (manage.py "
                               "eas_emulator); its token is a public demo value.")
        service.set_token(entry["token"])
        try:
            service.full_clean()
        except ValidationError as exc:
            problems = exc.message_dict
            if "public_endpoint" in problems:
                raise CommandError(
                    "The demo services call the emulator on 127.0.0.1, and the host policy "
                    f"refuses it: {problems['public_endpoint'][0]} Add 127.0.0.1 to "
                    "EASPORTAL_ALLOWED_ENDPOINT_HOSTS (make run does) and run seed_demo again."
                ) from None
            raise CommandError(f"The demo service {name!r} is not valid: {problems}") from None
