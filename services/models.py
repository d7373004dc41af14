from functools import lru_cache
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from services import endpoints, tokens
from services.compiled import CompiledQuery

# Words that would shadow a page of their own under /services/ or /teams/.
RESERVED_SLUGS = {"new"}


def validate_slug_not_reserved(value):
    if value in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is reserved; choose another slug."), params={"slug": value}
        )


@lru_cache(maxsize=4)
def _host_policy(patterns):
    return endpoints.HostPolicy(patterns)


def host_policy():
    return _host_policy(tuple(settings.EASPORTAL_ALLOWED_ENDPOINT_HOSTS))


class Role(models.TextChoices):
    MEMBER = "member", _("member")
    MAINTAINER = "maintainer", _("maintainer")


class TeamQuerySet(models.QuerySet):
    def for_user(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(memberships__user=user)

    def maintained_by(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        # One filter() call: both conditions must hold for the same membership row.
        return self.filter(memberships__user=user, memberships__role=Role.MAINTAINER)


class Team(models.Model):
    slug = models.SlugField(
        _("slug"), max_length=64, unique=True, validators=[validate_slug_not_reserved],
        error_messages={"unique": _("A team with this slug already exists.")},
    )
    name = models.CharField(_("name"), max_length=100)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")

    def __str__(self):
        return self.name

    def role_of(self, user):
        """The user's role in this team, or None; superusers count as maintainers."""
        if not user.is_authenticated:
            return None
        if user.is_superuser:
            return Role.MAINTAINER
        membership = self.memberships.filter(user=user).only("role").first()
        return membership.role if membership else None

    def is_maintainer(self, user):
        return self.role_of(user) == Role.MAINTAINER



class LastMaintainer(Exception):
    message = _("A team keeps at least one maintainer: make someone else maintainer first.")


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_user")
        ]
        ordering = ["user__username"]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"

    def change_role(self, role):
        """Raises LastMaintainer rather than leave the team without one."""
        with transaction.atomic():
            self._lock_team()
            if role != Role.MAINTAINER and self._is_last_maintainer():
                raise LastMaintainer
            self.role = role
            self.save(update_fields=["role"])

    def remove(self):
        with transaction.atomic():
            self._lock_team()
            if self._is_last_maintainer():
                raise LastMaintainer
            self.delete()

    def _lock_team(self):
        # Two maintainers demoting each other at once must not leave the team without one.
        Team.objects.select_for_update().only("pk").get(pk=self.team_id)

    def _is_last_maintainer(self):
        maintainers = self.team.memberships.filter(role=Role.MAINTAINER)
        return self.role == Role.MAINTAINER and maintainers.count() == 1


class ServiceQuerySet(models.QuerySet):
    def for_user(self, user):
        """The services a user may see: those of their teams (superusers: all)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(team__memberships__user_id=user.pk)

    def get_for_user(self, user, slug):
        """for_user(user).get(slug=slug) with the team's slug, or None; every call starts
        with this lookup, so it runs compiled (services/compiled.py)."""
        if not user.is_authenticated:
            return None
        lookup = _SUPERUSER_SERVICE if user.is_superuser else _MEMBER_SERVICE
        service = lookup.first(user_pk=user.pk, slug=slug)
        if service is not None:
            # The team as far as the query read it; any other field loads when first used.
            service.team = Team.from_db(service._state.db, ["id", "slug"],
                                        [service.team_id, service.team_slug])
        return service


def _visible_service(superuser):
    def build(user_pk, slug):
        user = SimpleNamespace(pk=user_pk, is_authenticated=True, is_superuser=superuser)
        return (Service.objects.for_user(user).filter(slug=slug)
                .annotate(team_slug=models.F("team__slug")))

    return CompiledQuery(Service, build, user_pk=-7301, slug="\x00slug")


class Service(models.Model):
    class Kind(models.TextChoices):
        LLM = "llm", _("OpenAI-compatible LLM")
        MODEL_GALLERY = "model_gallery", _("Model Gallery model")
        PROCESSOR = "processor", _("General processor (TensorFlow, Caffe, PMML, ...)")
        CUSTOM = "custom", _("Custom image")

    class Gateway(models.TextChoices):
        SHARED = "shared", _("Shared gateway")
        DEDICATED = "dedicated", _("Dedicated gateway")

    class EndpointKind(models.TextChoices):
        PUBLIC = "public", _("Public")
        VPC = "vpc", _("VPC")

    class Method(models.TextChoices):
        POST = "POST", "POST"
        GET = "GET", "GET"
        PUT = "PUT", "PUT"
        PATCH = "PATCH", "PATCH"
        DELETE = "DELETE", "DELETE"
        HEAD = "HEAD", "HEAD"
        OPTIONS = "OPTIONS", "OPTIONS"

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(
        _("slug"), max_length=64, unique=True, validators=[validate_slug_not_reserved],
        help_text=_("Used in URLs; unique across the portal."),
        error_messages={"unique": _("A service with this slug already exists.")},
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="services",
                             verbose_name=_("team"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    gateway = models.CharField(_("gateway"), max_length=16, choices=Gateway.choices,
                               default=Gateway.SHARED)
    public_endpoint = models.CharField(_("public endpoint"), max_length=500, blank=True)
    vpc_endpoint = models.CharField(_("VPC endpoint"), max_length=500, blank=True)
    default_endpoint = models.CharField(
        _("default endpoint"), max_length=8, choices=EndpointKind.choices,
        default=EndpointKind.PUBLIC,
    )
    region = models.CharField(
        _("region"), max_length=64, blank=True,
        help_text=_("Filled in from an EAS endpoint; enter it yourself for other hosts."),
    )
    description = models.TextField(_("description"), blank=True)
    default_path = models.CharField(_("default interface path"), max_length=2000, blank=True)
    default_method = models.CharField(_("default method"), max_length=8,
                                      choices=Method.choices, default=Method.POST)
    default_body = models.TextField(_("default body"), blank=True)
    timeout_s = models.PositiveIntegerField(
        _("timeout (seconds)"), default=60,
        validators=[MinValueValidator(1), MaxValueValidator(1800)],
        help_text=_("The total deadline of a call, from connecting to the last byte."),
    )
    token_encrypted = models.TextField(editable=False)
    token_hint = models.CharField(max_length=4, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        indexes = [models.Index(fields=["team", "name"])]

    def __str__(self):
        return self.name

    def set_token(self, plaintext):
        self.token_encrypted = tokens.encrypt_token(plaintext)
        self.token_hint = tokens.token_hint(plaintext)

    def read_token(self):
        """The plaintext token, for a call in flight; raises tokens.TokenUnreadable."""
        return tokens.decrypt_token(self.token_encrypted)

    @property
    def token_problem(self):
        """A message when the configured keys cannot read the token, else ""."""
        try:
            self.read_token()
        except tokens.TokenUnreadable as exc:
            return str(exc)
        return ""

    def endpoint_url(self, kind=None):
        kind = kind or self.default_endpoint
        return self.vpc_endpoint if kind == self.EndpointKind.VPC else self.public_endpoint

    def parsed_endpoints(self):
        """(public, vpc) as endpoints.Endpoint or None; stored values were validated on save."""
        parsed = []
        for text in (self.public_endpoint, self.vpc_endpoint):
            try:
                parsed.append(endpoints.parse_endpoint(text) if text else None)
            except endpoints.EndpointError:
                parsed.append(None)
        return tuple(parsed)

    def endpoint_warnings(self):
        warnings = endpoints.endpoint_warnings(*self.parsed_endpoints())
        return [gettext(warning.message) % warning.params for warning in warnings]

    def clean(self):
        errors = {}
        parsed = {}
        for field in ("public_endpoint", "vpc_endpoint"):
            text = getattr(self, field).strip()
            setattr(self, field, text)
            if not text:
                continue
            try:
                endpoint = endpoints.parse_endpoint(text)
                host_policy().check_endpoint(endpoint)
            except endpoints.EndpointError as exc:
                errors[field] = ValidationError(gettext(exc.message), params=exc.params)
                continue
            setattr(self, field, endpoint.url)
            parsed[field] = endpoint
        if not self.public_endpoint and not self.vpc_endpoint and not errors:
            errors["public_endpoint"] = _("Enter a public endpoint, a VPC endpoint, or both.")
        # The default must be an address the service has.
        if self.default_endpoint == self.EndpointKind.VPC and not self.vpc_endpoint:
            self.default_endpoint = self.EndpointKind.PUBLIC
        elif self.default_endpoint == self.EndpointKind.PUBLIC and not self.public_endpoint:
            self.default_endpoint = self.EndpointKind.VPC
        if self.default_path:
            try:
                endpoints.join_url("http://host", self.default_path)
            except endpoints.PathError as exc:
                errors["default_path"] = ValidationError(gettext(exc.message), params=exc.params)
        region = endpoints.region_of(parsed.get("public_endpoint"), parsed.get("vpc_endpoint"))
        if region:
            self.region = region
        if errors:
            raise ValidationError(errors)


_MEMBER_SERVICE = _visible_service(superuser=False)
_SUPERUSER_SERVICE = _visible_service(superuser=True)


# The history's models live in services/history_models.py; Django finds them through here.
from services.history_models import AuditEvent, Call, CallQuerySet  # noqa: E402, F401
