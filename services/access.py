"""Who may see, call and change what: the one place that answers, for every page, API route and
command.

- A team's members see its services and calls and call its services; its maintainers also
  change them and manage its members. Superusers see everything, count as maintainers of every
  team, and alone create teams.
- What a user may not see answers 404, exactly like what does not exist, so that other teams'
  slugs do not leak; what they see but may not change answers 403.
Both are a services.errors.Refusal, worded here once.
"""

from types import SimpleNamespace
from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from services.compiled import CompiledPair, CompiledQuery
from services.errors import Refusal
from services.models import (
    ApiKey,
    AuditEvent,
    Call,
    Membership,
    Role,
    Run,
    SavedRequest,
    Service,
    Team,
)

# A logged-in user, an AnonymousUser, or a stand-in with pk, is_authenticated, is_superuser.
User = Any


def _scoped(objects: Any, user: User, **of_their_teams: Any) -> QuerySet:
    # Nothing for the logged-out, everything for superusers, else what the filter keeps.
    if not user.is_authenticated:
        return objects.none()
    if user.is_superuser:
        return objects.all()
    return objects.filter(**of_their_teams)


def teams(user: User) -> QuerySet:
    """The teams a user sees: their own (superusers: all)."""
    return _scoped(Team.objects, user, memberships__user_id=user.pk)


def maintained_teams(user: User) -> QuerySet:
    # One filter() call: both conditions must hold for the same membership row.
    return _scoped(Team.objects, user, memberships__user_id=user.pk,
                   memberships__role=Role.MAINTAINER)


def services(user: User) -> QuerySet:
    """The services a user sees and may call: those of their teams (superusers: all)."""
    return _scoped(Service.objects, user, team__memberships__user_id=user.pk)


def calls(user: User) -> QuerySet:
    """The calls a user sees: those of their teams (superusers: all)."""
    return _scoped(Call.objects, user, team__in=teams(user).values("pk"))


def team_ids(user: User) -> list[int] | None:
    """The ids of the user's teams, or None for a superuser, who sees every team: a literal
    list lets each team walk its own (team, ..., id) index of the history."""
    if user.is_authenticated and user.is_superuser:
        return None
    return list(teams(user).values_list("pk", flat=True))


def role(user: User, team: Team) -> str | None:
    """The user's role in the team, or None; superusers count as maintainers."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return str(Role.MAINTAINER)
    membership = Membership.objects.filter(team=team, user_id=user.pk).only("role").first()
    return membership.role if membership else None


def teams_with_roles(user: User) -> list[tuple[Team, str]]:
    """The user's teams by name, each with the user's role (superusers: maintainer of all)."""
    found = teams(user).order_by("name", "slug")
    if user.is_superuser:
        return [(team, str(Role.MAINTAINER)) for team in found]
    roles = dict(Membership.objects.filter(user_id=user.pk).values_list("team_id", "role"))
    return [(team, roles[team.pk]) for team in found]


def is_maintainer(user: User, team: Team) -> bool:
    return role(user, team) == str(Role.MAINTAINER)


def may_add_services(user: User) -> bool:
    return maintained_teams(user).exists()


# Lookups that answer 404 to anyone who may not see the object.

def team(user: User, slug: str) -> Team:
    found = teams(user).filter(slug=slug).first()
    if found is None:
        raise Refusal(404, _("There is no team “%(slug)s”.") % {"slug": slug})
    return found


def service(user: User, slug: str) -> Service:
    found = services(user).select_related("team").filter(slug=slug).first()
    if found is None:
        raise Refusal(404, _("There is no service “%(slug)s”.") % {"slug": slug})
    return found


def call(user: User, call_id: int | str) -> Call:
    found = calls(user).select_related("team").filter(pk=call_id).first()
    if found is None:
        raise Refusal(404, _("There is no call %(id)s.") % {"id": call_id})
    return found


def saved_requests(user: User) -> QuerySet:
    """The saved requests a user sees: those of the services they see."""
    return SavedRequest.objects.filter(service__in=services(user).values("pk"))


def saved_request(user: User, saved_id: int | str) -> SavedRequest:
    found = saved_requests(user).select_related("service__team").filter(pk=saved_id).first()
    if found is None:
        raise Refusal(404, _("There is no saved request %(id)s.") % {"id": saved_id})
    return found


def runs(user: User) -> QuerySet:
    """The capacity runs and compares a user sees: those of their teams (superusers: all)."""
    return _scoped(Run.objects, user, team__in=teams(user).values("pk"))


def run(user: User, run_id: int | str) -> Run:
    found = runs(user).select_related("team").filter(pk=run_id).first()
    if found is None:
        raise Refusal(404, _("There is no run %(id)s.") % {"id": run_id})
    return found


def service_of(user: User, call: Call) -> Service | None:
    """The call's service if it still exists and the user may still see it, else None."""
    if call.service_id is None:
        return None
    return services(user).select_related("team").filter(pk=call.service_id).first()


def own_key(user: User, key_id: int) -> ApiKey:
    """A personal key of the user's that is not revoked. Keys are personal: nobody else, not
    even a superuser, sees or revokes one, and another's key answers like a missing one."""
    found = ApiKey.objects.filter(pk=key_id, user_id=user.pk, revoked_at__isnull=True).first()
    if found is None:
        raise Refusal(404, _("You have no key %(id)s.") % {"id": key_id})
    return found


def own_keys(user: User) -> QuerySet:
    """The user's keys that are not revoked, newest first (expired ones included)."""
    return ApiKey.objects.filter(user_id=user.pk, revoked_at__isnull=True)


def member(team: Team, username: str) -> Membership:
    # PostgreSQL refuses NUL in a query; no username holds one.
    found = None if "\x00" in username else (
        team.memberships.select_related("user").filter(user__username=username).first())
    if found is None:
        raise Refusal(404, _("“%(name)s” is not a member of “%(team)s”.")
                      % {"name": username, "team": team.slug})
    return found


def _visible_service(superuser: bool) -> CompiledQuery:
    def build(user_pk: int, slug: str) -> QuerySet:
        user = SimpleNamespace(pk=user_pk, is_authenticated=True, is_superuser=superuser)
        return services(user).filter(slug=slug).annotate(team_slug=F("team__slug"))

    return CompiledQuery(Service, build, user_pk=-7301, slug="\x00slug")


_MEMBER_SERVICE = _visible_service(superuser=False)
_SUPERUSER_SERVICE = _visible_service(superuser=True)
_WITH_SERVICE: dict[CompiledQuery, CompiledPair] = {}


def read_with_service(user_query: CompiledQuery, slug: str, user_pk: Any, kept: Any = None,
                      **values: Any) -> Any:
    """The user user_query finds (user_pk is the user's pk, and values its other values), read
    in the same query as the service slug that the user's teams may call: a call's first
    lookup, its user's, takes the second, its service's, along (services/sessions.py,
    services/keys.py). The service is kept on the user, for service_to_call() to take. kept:
    where the row may be kept (services/kept.py), as CompiledQuery.first()'s."""
    return read_after_with_service(None, [], 0, user_query, slug, user_pk, kept=kept,
                                   **values)[1]


def read_after_with_service(lead: str | None, lead_params: list[Any], lead_width: int,
                            user_query: CompiledQuery, slug: str, user_pk: Any,
                            kept: Any = None, **values: Any) -> tuple[Any, Any]:
    """read_with_service(), after the statement lead in the same round trip (CompiledPair's
    first_after()): (lead's row or None, the user or None)."""
    pair = _WITH_SERVICE.get(user_query)
    if pair is None:
        pair = _WITH_SERVICE.setdefault(user_query, CompiledPair(user_query, _MEMBER_SERVICE))
    lead_row, user, service = pair.first_after(lead, lead_params, lead_width,
                                               {"pk": user_pk, **values},
                                               {"user_pk": user_pk, "slug": slug}, kept)
    if user is not None:
        user.services_read = {slug: service}
    return lead_row, user


def called_service(view: Any, kwargs: dict[str, Any]) -> str | None:
    """The slug of the service a view calls, for a view marked calls_service (the API's invoke
    route): its user is read with that service (read_with_service()). None for other views."""
    return kwargs.get("slug") if getattr(view, "calls_service", False) else None


def service_to_call(user: User, slug: str) -> Service:
    """service(user, slug), as the call path needs it: every call starts with this lookup, so
    it runs compiled (services/compiled.py), and only the team's id and slug are read; or it
    was read with the user, in the same query (read_with_service())."""
    found = None
    if user.is_authenticated:
        read = getattr(user, "services_read", None) or {}
        # A superuser also calls the services of teams they are not a member of.
        if slug in read and (read[slug] is not None or not user.is_superuser):
            found = read.pop(slug)
        else:
            lookup = _SUPERUSER_SERVICE if user.is_superuser else _MEMBER_SERVICE
            found = lookup.first(user_pk=user.pk, slug=slug)
    if found is None:
        raise Refusal(404, _("There is no service “%(slug)s”.") % {"slug": slug})
    # The team as far as the query read it; any other field loads when first used.
    found.team = Team.from_db(found._state.db, ["id", "slug"], [found.team_id, found.team_slug])
    return found


# Checks that answer 403 to a user who sees the object but may not change it.

def require_maintainer(user: User, team: Team, action: str) -> None:
    """action completes "Only maintainers of the team ... can": "edit its services"."""
    if not is_maintainer(user, team):
        raise Refusal(403, _("Only maintainers of the team “%(team)s” can %(action)s.")
                      % {"team": team.slug, "action": action})


def may_change_saved_request(user: User, saved: SavedRequest,
                             maintainer: bool | None = None) -> bool:
    """Its creator or a maintainer of its service's team changes and deletes a saved request;
    maintainer: whether the user maintains that team, when it is known already (a list)."""
    if saved.created_by_id is not None and saved.created_by_id == user.pk:
        return True
    return is_maintainer(user, saved.service.team) if maintainer is None else maintainer


def require_saved_request_editor(user: User, saved: SavedRequest, action: str) -> None:
    """may_change_saved_request, or a 403; action completes "Only ... can": "change it"."""
    if not may_change_saved_request(user, saved):
        raise Refusal(403, _("Only the one who saved this request or a maintainer of the team "
                             "“%(team)s” can %(action)s.")
                      % {"team": saved.service.team.slug, "action": action})


def require_team_creator(user: User) -> None:
    if not (user.is_authenticated and user.is_superuser):
        raise Refusal(403, _("Only administrators can create teams."))


def team_to_maintain(user: User, slug: str, action: str) -> Team:
    """The team named in a request's body (not its URL), for a user who must maintain it."""
    found = teams(user).filter(slug=slug).first()
    if found is None:
        raise Refusal(400, _("team: there is no team “%(slug)s” among yours.") % {"slug": slug})
    require_maintainer(user, found, action)
    return found


def may_export_real_token(user: User, team: Team) -> bool:
    """Snippets with the real token are for the team's maintainers (and audited)."""
    return is_maintainer(user, team)


# The audit log: a team's maintainers read its events; superusers read every event, those of
# no team (personal keys) included.

def audit_events(user: User) -> QuerySet:
    if not user.is_authenticated:
        return AuditEvent.objects.none()
    if user.is_superuser:
        return AuditEvent.objects.all()
    # A literal list: each team walks its own (team, id) index.
    maintained = Membership.objects.filter(user_id=user.pk, role=Role.MAINTAINER)
    return AuditEvent.objects.filter(team_id__in=list(maintained.values_list("team_id",
                                                                             flat=True)))


def may_read_audit_log(user: User) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_superuser or Membership.objects.filter(
        user_id=user.pk, role=Role.MAINTAINER).exists()


def require_audit_reader(user: User) -> None:
    if not may_read_audit_log(user):
        raise Refusal(403, _("Only maintainers of a team and administrators can read the audit "
                             "log, and you maintain no team."))


def audit_team(user: User, slug: str) -> Team:
    """A team whose audit log the user asks for: 404 to outsiders, 403 to its members."""
    found = team(user, slug)
    require_maintainer(user, found, _("read its audit log"))
    return found
