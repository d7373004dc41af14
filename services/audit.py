"""The audit log (docs/api.md, "Audit log"): who did what, recorded where it happens, in the same
transaction as the change, and read back by the teams' maintainers.

- record() writes one AuditEvent; the changes made in more than one place (a service created,
  changed or deleted, a member added, given a role or removed) are here with their record, so
  that a page and an API route record them alike. An event never holds a secret: a service's
  change names its fields, never their values, and a new token is only said to be new.
- AuditFilter: the log's filters and its pages, cut by id as the history's are
  (services/history.py), newest first.
"""

from collections import namedtuple
from datetime import timedelta

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from services import access, probes
from services.history import DEFAULT_LIMIT, LAST_DAY, MAX_LIMIT, start_of
from services.models import AuditEvent, Membership, Probe, Service, Team

Action = AuditEvent.Action
# What a service's change names: its settings, not its bookkeeping. The token is not among
# them: a new one is an event of its own (token.changed), compared as ciphertext, never read.
UNAUDITED = {"id", "token_encrypted", "token_hint", "created_by", "updated_by", "created_at",
             "updated_at"}
SERVICE_FIELDS = [field.attname for field in Service._meta.concrete_fields
                  if field.name not in UNAUDITED]
# A probe's settings, named probe.<field>; its state is the probe runner's, not a change.
PROBE_FIELDS = [field.attname for field in Probe._meta.concrete_fields
                if field.name not in {"service", "next_at", "state", "last_checked_at",
                                      "last_latency_ms", "last_error"}]


def record(user, action, team=None, target="", service_slug="", detail=None):
    """One event; user None for what the portal did itself (a probe's finding); team a Team,
    its id, or None (a personal key's events belong to no team)."""
    return AuditEvent.objects.create(
        user=user, username=user.get_username() if user is not None else "", action=action,
        team_id=team if team is None or isinstance(team, int) else team.pk,
        target=str(target)[:200], service_slug=service_slug, detail=detail or {})


# Services

def service_created(user, service):
    """Call inside the transaction that saved the new service."""
    record(user, Action.SERVICE_CREATED, team=service.team, target=service.slug,
           service_slug=service.slug, detail={"name": service.name})


def service_settings(service):
    """What service_changed() compares: the service's settings and its probe's (None when it
    has none), as the database holds them (whatever a form did to the instance), the row locked
    until the transaction ends. Read it inside the transaction that saves the change, before
    saving."""
    values = (Service.objects.select_for_update().filter(pk=service.pk)
              .values(*SERVICE_FIELDS, "token_encrypted").get())
    values["probe"] = Probe.objects.filter(service_id=service.pk).values(*PROBE_FIELDS).first()
    return values


def _default_probe(settings):
    # The probe a service with these settings has until one is saved (services/probes.py).
    probe = probes.probe_of(Service(**{name: settings[name] for name in SERVICE_FIELDS}))
    return {name: getattr(probe, name) for name in PROBE_FIELDS}


def _changed_fields(before, after):
    changed = [name.removesuffix("_id") for name in SERVICE_FIELDS if after[name] != before[name]]
    if after["probe"] is not None:
        # A probe saved for the first time is compared with the default it had until then.
        was = before["probe"] or _default_probe(before)
        changed += [f"probe.{name}" for name in PROBE_FIELDS if after["probe"][name] != was[name]]
    return sorted(changed)


def service_changed(user, service, before):
    """Call inside the transaction that saved the change, after saving: service.changed naming
    the fields that changed (none: no event), and token.changed when a new token was set."""
    after = service_settings(service)
    changed = _changed_fields(before, after)
    slug, team_id = after["slug"], after["team_id"]
    if changed:
        detail = {"fields": changed}
        if before["slug"] != slug:
            detail["slug_was"] = before["slug"]
        if before["team_id"] != team_id:
            detail["team_was"] = Team.objects.filter(
                pk=before["team_id"]).values_list("slug", flat=True).first()
        record(user, Action.SERVICE_CHANGED, team=team_id, target=slug, service_slug=slug,
               detail=detail)
    if after["token_encrypted"] != before["token_encrypted"]:
        record(user, Action.TOKEN_CHANGED, team=team_id, target=slug, service_slug=slug)


def delete_service(user, service):
    """Deletes the service (its calls stay in history) and records it, together."""
    slug, name, team = service.slug, service.name, service.team
    with transaction.atomic():
        service.delete()
        record(user, Action.SERVICE_DELETED, team=team, target=slug, service_slug=slug,
               detail={"name": name})


# Members

def put_member(by, team, user, role):
    """team.put_member(user, role), recorded: member.added, or member.role_changed (nothing for
    a role the member has already). Raises Refusal (409) rather than leave no maintainer."""
    with transaction.atomic():
        was = team.memberships.filter(user=user).values_list("role", flat=True).first()
        membership, outcome = team.put_member(user, role)
        if outcome == "added":
            record(by, Action.MEMBER_ADDED, team=team, target=user.get_username(),
                   detail={"role": membership.role})
        elif outcome == "changed":
            record(by, Action.MEMBER_ROLE_CHANGED, team=team, target=user.get_username(),
                   detail={"role": membership.role, "was": was})
    return membership, outcome


def remove_member(by, membership: Membership):
    """membership.remove(), recorded; raises Refusal (409) for the last maintainer."""
    with transaction.atomic():
        membership.remove()
        record(by, Action.MEMBER_REMOVED, team=membership.team,
               target=membership.user.get_username(), detail={"role": membership.role})


# Reading the log

EventRow = namedtuple("EventRow", ["id", "created_at", "username", "team_slug", "action",
                                   "service_slug", "target", "detail"])
ROW_FIELDS = ("id", "created_at", "username", "team__slug", "action", "service_slug", "target",
              "detail")


class AuditFilter(forms.Form):
    team = forms.SlugField(label=_("Team"), required=False, max_length=64)
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=[("", _("Any action")), *Action.choices])
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    # "To" includes its whole day, as in the history.
    since = forms.DateField(label=_("From"), required=False, validators=[LAST_DAY],
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, validators=[LAST_DAY],
                            widget=forms.DateInput(attrs={"type": "date"}))
    cursor = forms.IntegerField(label="cursor", required=False, min_value=1,
                                widget=forms.HiddenInput)
    limit = forms.IntegerField(label="limit", required=False, min_value=1, max_value=MAX_LIMIT,
                               widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start date comes after the end date."))
        return data

    def events(self):
        """The events the user may read that the valid filters keep (a cursor: those older
        than it), unordered. For team=, raises Refusal: 404 for a team the user does not see,
        403 for one they do not maintain. (Who maintains no team is refused before:
        access.require_audit_reader.)"""
        data = self.cleaned_data
        events = access.audit_events(self.user)
        if data["team"]:
            events = events.filter(team=access.audit_team(self.user, data["team"]))
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["user"]:
            events = events.filter(username=data["user"])
        if data["since"]:
            events = events.filter(created_at__gte=start_of(data["since"]))
        if data["until"]:
            events = events.filter(created_at__lt=start_of(data["until"] + timedelta(days=1)))
        if data["cursor"]:
            events = events.filter(id__lt=data["cursor"])
        return events

    def page(self):
        """(rows, next_cursor): a page of EventRows, newest first, in one query."""
        limit = self.cleaned_data["limit"] or DEFAULT_LIMIT
        rows = [EventRow._make(values) for values in
                self.events().order_by("-id").values_list(*ROW_FIELDS)[: limit + 1]]
        next_cursor = rows[limit - 1].id if len(rows) > limit else None
        return rows[:limit], next_cursor


def batches(events, size=2000):
    """Every event the queryset holds, newest first, as lists of EventRows (keyset batches:
    bounded memory whatever the log's length)."""
    last = None
    while True:
        window = events if last is None else events.filter(id__lt=last)
        rows = [EventRow._make(values) for values in
                window.order_by("-id").values_list(*ROW_FIELDS)[:size]]
        if not rows:
            return
        yield rows
        last = rows[-1].id

