"""The registry: a team's services, each with its endpoints and its token (encrypted by
services/tokens.py, never stored or shown in plain)."""

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from services import tokens
from services.models.teams import Team, validate_slug_not_reserved
from services.net import endpoints, join
from services.net.errors import EndpointError, PathError


@lru_cache(maxsize=4)
def _host_policy(patterns):
    return endpoints.HostPolicy(patterns)


def host_policy():
    """EASPORTAL_ALLOWED_ENDPOINT_HOSTS, parsed once for each value it takes."""
    return _host_policy(tuple(settings.EASPORTAL_ALLOWED_ENDPOINT_HOSTS))


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

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        indexes = [models.Index(fields=["team", "name"])]

    def __str__(self):
        return self.name

    # Saving a service that was read from the database writes only the fields that changed
    # since it was read: a page or API edit that read the row before `rotate_token_keys`
    # committed then leaves the re-encrypted token alone, rather than writing back ciphertext
    # made with a key that is about to be removed.

    def save(self, *args, **kwargs):
        if kwargs.get("update_fields") is None and not self._state.adding and hasattr(
                self, "_loaded") and self.pk == self._loaded.get("id"):
            kwargs["update_fields"] = [*self.changed_fields(), "updated_at"]
        super().save(*args, **kwargs)
        self._loaded = {field.attname: getattr(self, field.attname)
                        for field in self._meta.concrete_fields}

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded = dict(zip(field_names, values, strict=True))
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # A deferred field read later counts as read: it is not a change.
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        loaded = getattr(self, "_loaded", None)
        if loaded is not None:
            for field in self._meta.concrete_fields:
                if (fields is None or field.attname in fields or field.name in fields) and (
                        field.attname in self.__dict__):
                    loaded[field.attname] = self.__dict__[field.attname]

    def changed_fields(self):
        """The fields (attnames) whose values differ from those read from the database; a
        field that was not read then (deferred) but is set now counts as changed."""
        loaded = getattr(self, "_loaded", {})
        return [field.attname for field in self._meta.concrete_fields
                if field.attname in self.__dict__ and field.attname != "id"
                and (field.attname not in loaded
                     or self.__dict__[field.attname] != loaded[field.attname])]

    @sensitive_variables()
    def set_token(self, plaintext):
        self.token_encrypted = tokens.encrypt_token(plaintext)
        self.token_hint = tokens.token_hint(plaintext)

    @sensitive_variables()
    def read_token(self):
        """The plaintext token, for a call in flight; raises tokens.TokenUnreadable."""
        return tokens.read_service_token(self.token_encrypted)

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
            except EndpointError:
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
            except EndpointError as exc:
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
                join.check_path(self.default_path)
            except PathError as exc:
                errors["default_path"] = ValidationError(gettext(exc.message), params=exc.params)
        region = endpoints.region_of(parsed.get("public_endpoint"), parsed.get("vpc_endpoint"))
        if region:
            self.region = region
        if errors:
            raise ValidationError(errors)
