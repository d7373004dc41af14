from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from services import access, probes, tokens
from services.models import ApiKey, Probe, Role, Service, Team
from services.net import join
from services.net.errors import PathError


class ServiceForm(forms.ModelForm):
    token = forms.CharField(
        label=_("Token"),
        max_length=tokens.MAX_TOKEN_CHARS,
        required=False,
        strip=True,
        # Never render a stored or submitted token back into the page.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = Service
        fields = [
            "name", "slug", "team", "kind", "gateway", "public_endpoint", "vpc_endpoint",
            "default_endpoint", "region", "description", "default_path", "default_method",
            "default_body", "timeout_s",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "default_body": forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
            "public_endpoint": forms.TextInput(
                attrs={"placeholder": "http://<uid>.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/<service>"}
            ),
            "vpc_endpoint": forms.TextInput(
                attrs={"placeholder": "http://<uid>.vpc.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/<service>"}
            ),
            "gateway": forms.RadioSelect,
            "default_endpoint": forms.RadioSelect,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["team"].queryset = access.maintained_teams(user)
        self.fields["team"].empty_label = None
        if self.instance.pk:
            self.fields["token"].label = _("Replace token")
            self.fields["token"].help_text = _(
                "The current token ends in “%(hint)s”. Leave this blank to keep it."
            ) % {"hint": self.instance.token_hint}
        else:
            self.fields["token"].required = True
            self.fields["token"].help_text = _(
                "Stored encrypted and never shown again; only its last characters are."
            )

    @sensitive_variables()
    def clean_token(self):
        token = self.cleaned_data["token"]
        if not token:
            return token  # required on create: the field says so; on edit, blank keeps it
        try:
            return tokens.check_token_text(token)
        except tokens.TokenInvalid as exc:
            raise forms.ValidationError(str(exc)) from None

    @sensitive_variables()
    def save(self, commit=True):
        service = super().save(commit=False)
        if self.cleaned_data.get("token"):
            service.set_token(self.cleaned_data["token"])
        if service.pk is None:
            service.created_by = self.user
        service.updated_by = self.user
        if commit:
            service.save()
        return service


class ProbeForm(forms.ModelForm):
    """A service's probe, on the service's own form (prefix "probe"). An empty path takes the
    default: GET /v1/models for an LLM service, else the service's default request."""

    class Meta:
        model = Probe
        fields = ["enabled", "method", "path", "body", "interval_s", "expect_status"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})}
        help_texts = {
            "enabled": _("Check the service regularly; its state shows on the status board."),
            "interval_s": _("At least 30 seconds."),
            "path": _("Empty: /v1/models for an LLM service, else the default interface path."),
        }

    # Left empty, these keep what the probe had (or its defaults): a form posted without the
    # probe's fields (an older page, a script) changes nothing of it.
    KEPT = ("method", "interval_s", "expect_status")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="probe", **kwargs)
        for name in self.KEPT:
            self.fields[name].required = False

    def clean(self):
        data = super().clean()
        for name in self.KEPT:
            if data.get(name) in (None, ""):
                data[name] = getattr(self.instance, name)
        return data

    def posted(self):
        """Whether the probe's fields were in the form at all."""
        return any(key.startswith(self.prefix + "-") for key in self.data)

    def clean_path(self):
        path = self.cleaned_data["path"]
        try:
            join.check_path(path)
        except PathError as exc:
            raise forms.ValidationError(gettext(exc.message) % exc.params) from None
        return path

    def check_token(self, service):
        """On a service whose token the keys cannot read, a probe cannot be turned on."""
        problem = service.token_problem if self.cleaned_data.get("enabled") else ""
        if problem:
            self.add_error("enabled", _("The probe cannot be turned on: %(problem)s")
                           % {"problem": problem})
        return not problem

    def save_for(self, service):
        """Saves the probe of service (just saved), due at once; nothing when it is left off
        with its defaults untouched on a new service."""
        probe = probes.probe_of(service)
        if not self.posted() or (probe._state.adding and not self.has_changed()):
            return None
        for name in ProbeForm.Meta.fields:
            setattr(probe, name, self.cleaned_data[name])
        if not probe.path and not probe.body:
            default = probes.probe_of(Service(kind=service.kind,
                                              default_method=service.default_method,
                                              default_path=service.default_path,
                                              default_body=service.default_body))
            probe.method, probe.path, probe.body = default.method, default.path, default.body
        probes.save(probe)
        return probe


class ServiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False,
                                  to_field_name="slug", empty_label=_("All teams"))
    kind = forms.ChoiceField(choices=[("", _("All kinds")), *Service.Kind.choices], required=False)
    gateway = forms.ChoiceField(choices=[("", _("All gateways")), *Service.Gateway.choices],
                                required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = access.teams(user)

    def filter(self, services):
        if not self.is_valid():
            return services
        data = self.cleaned_data
        if data["q"]:
            words = Q()
            for field in ("name", "slug", "description", "public_endpoint", "vpc_endpoint"):
                words |= Q(**{f"{field}__icontains": data["q"]})
            services = services.filter(words)
        if data["team"]:
            services = services.filter(team=data["team"])
        if data["kind"]:
            services = services.filter(kind=data["kind"])
        if data["gateway"]:
            services = services.filter(gateway=data["gateway"])
        return services


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "slug"]


class MemberForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("There is no user named “%(name)s”."),
                                        params={"name": username})
        self.member = user
        return username


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class KeyForm(forms.Form):
    """A new personal key: a name, and the day it stops working, if any. The key expires at the
    start (00:00) of that day in the portal's time zone (TIME_ZONE), so the day shown in the
    list of keys is the day entered, and the first day it no longer works."""

    name = forms.CharField(
        label=_("Name"), max_length=ApiKey._meta.get_field("name").max_length,
        help_text=_("What will use it, such as a script, a CI job or a machine."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}))
    expires = forms.DateField(
        label=_("Expires on"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires"].help_text = _(
            "Optional. The key stops working at 00:00 on this day (%(zone)s); leave it empty "
            "for a key that does not expire.") % {"zone": timezone.get_default_timezone_name()}
        # The date picker offers the days the form accepts; the check below is the rule.
        tomorrow = timezone.localdate(timezone=timezone.get_default_timezone()) + timedelta(1)
        self.fields["expires"].widget.attrs["min"] = tomorrow.isoformat()

    def clean_expires(self):
        day = self.cleaned_data["expires"]
        if day is None:
            return None
        zone = timezone.get_default_timezone()
        # Compared as days first: no aware arithmetic on dates at the ends of the calendar.
        if day <= timezone.localdate(timezone=zone):
            raise forms.ValidationError(
                _("Choose a day after today: the key stops working as that day begins."))
        return timezone.make_aware(datetime.combine(day, time.min), zone)
