"""Call history: the filters and the cursor pagination shared by the history page and the API.

Pages are cut by a cursor (the id of the last call shown), never counted or offset, so the
first page and the thousandth cost the same with ten million rows. Each filter has an index
that leads with the team (services/models/history.py) and ends with the page's order: newest
first by id, or by (created_at, id) when a date filter is given, which the date index serves
in that order. The path, which no index can serve as "contains", is searched in a bounded
window of the calls the other filters keep (PATH_WINDOW).
"""

from collections import namedtuple
from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import BooleanField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services import access
from services.models import Call
from services.models.history import BACKGROUND_SOURCES

DEFAULT_LIMIT = 50
LAST_DAY = MaxValueValidator(date(9999, 12, 30))
MAX_LIMIT = 200
# Reading the whole history (batches()): ids a query, and the body bytes a batch may hold.
BATCH_IDS = 2000
BATCH_BODY_BYTES = 8 * 1024 * 1024
# What a list shows; the bodies and headers are read on the detail page only.
LIST_FIELDS = ("id", "team_id", "service_slug", "service_name", "username", "created_at",
               "endpoint", "method", "path", "url", "status", "status_class", "elapsed_ms",
               "response_size", "response_truncated", "error", "streamed", "stopped",
               "ttft_ms", "tpot_ms", "completion_tokens", "source", "run_id")
# The everyday calls, which the history lists unless asked for others (BACKGROUND_SOURCES are
# the many requests of runs, and probes), as SQL with the values written in rather than passed
# as parameters: only so can a prepared statement's generic plan (PostgreSQL) prove that the
# partial indexes call_team_everyday_id and call_everyday_id, whose condition this is, serve it.
_BACKGROUND_LIST = ", ".join(f"'{source}'" for source in BACKGROUND_SOURCES)
EVERYDAY = RawSQL(f'NOT ("{Call._meta.db_table}"."source" IN ({_BACKGROUND_LIST}))', [],
                  output_field=BooleanField())
# A path is searched ("contains", in any case) in at most this many calls a page: the newest
# that the other filters keep, past the cursor. A page may so hold fewer calls than its limit
# and still have a next one, where the search goes on (docs/api.md, "History filters").
PATH_WINDOW = 20_000


class CallFilter(forms.Form):
    service = forms.SlugField(label=_("Service"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *Call.StatusClass.choices])
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    # "To" includes its whole day, up to the next midnight, which must exist too.
    since = forms.DateField(label=_("From"), required=False, validators=[LAST_DAY],
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, validators=[LAST_DAY],
                            widget=forms.DateInput(attrs={"type": "date"}))
    path = forms.CharField(label=_("Path contains"), required=False, max_length=200)
    streamed = forms.TypedChoiceField(
        label=_("Streamed"), required=False, empty_value=None,
        coerce=lambda value: value == "true",
        choices=[("", _("Streamed or not")), ("true", _("Streamed")),
                 ("false", _("Not streamed"))])
    source = forms.ChoiceField(
        label=_("Source"), required=False,
        choices=[("", _("Everyday calls")), ("all", _("All, runs included")),
                 *Call.Source.choices])
    run = forms.IntegerField(label=_("Run"), required=False, min_value=1,
                             widget=forms.HiddenInput)
    cursor = forms.IntegerField(label="cursor", required=False, min_value=1,
                                widget=forms.HiddenInput)
    limit = forms.IntegerField(label="limit", required=False, min_value=1, max_value=MAX_LIMIT,
                               widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # After page(): the window's size when a path search stopped at it, else None.
        self.window_ended = None

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start date comes after the end date."))
        return data

    def page(self, fields=LIST_FIELDS):
        """(calls, next_cursor) for the valid filters, newest first; call is_valid() first.
        Ordered by id, or by (created_at, id) with a date filter; next_cursor is the id of
        the last call of the page, or where the path's search window ended."""
        data = self.cleaned_data
        dated = bool(data["since"] or data["until"])
        order = ("-created_at", "-id") if dated else ("-id",)
        calls = self.calls(path=False, dates=not dated)
        # The page's calls are older than `upper` and not older than `lower`, each a place in
        # the page's order, (created_at, id), either part None. The dates, the cursor and the
        # path's window each give one; only the tighter of two is written, so that the index
        # reads from one point to another rather than filter what lies between.
        upper = (start_of(data["until"] + timedelta(days=1)), None) if data["until"] else None
        lower = (start_of(data["since"]), None) if data["since"] else None
        if data["cursor"]:
            at = (Call.objects.filter(pk=data["cursor"]).values_list("created_at", flat=True)
                  .first() if dated else None)
            if dated and at is None:  # the cursor's call is gone: older by id will do
                calls = calls.filter(id__lt=data["cursor"])
            else:
                upper = _tighter(upper, (at, data["cursor"]), min)
        floor = None
        if data["path"]:
            # The oldest call of the window; the search is within it, the next page past it.
            # (Its time is read also when the order is the id's: SQLite, given a bound team
            # id, would read an index that holds just the id and the source, and sort it all.)
            window = _between(calls, upper, lower).order_by(*order)
            oldest = next(iter(window.values_list("id", "created_at")
                               [PATH_WINDOW - 1:PATH_WINDOW]), None)
            if oldest is not None:
                floor = oldest[0]
                lower = _tighter(lower, (oldest[1] if dated else None, floor), max)
            calls = calls.filter(url__icontains=data["path"])
        limit = data["limit"] or DEFAULT_LIMIT
        calls = _between(calls, upper, lower)
        if fields:
            calls = calls.only(*fields)
        rows = list(calls.order_by(*order)[: limit + 1])
        next_cursor = rows[limit - 1].id if len(rows) > limit else floor
        # The page is short because the path's search stopped at the window, not at the end.
        self.window_ended = PATH_WINDOW if len(rows) <= limit and floor is not None else None
        return rows[:limit], next_cursor

    def calls(self, path=True, dates=True):
        """The calls the valid filters keep (cursor and limit aside; path=False, dates=False:
        those filters too), unordered."""
        data = self.cleaned_data
        calls = Call.objects.all()
        teams = access.team_ids(self.user)
        if teams is not None:
            calls = calls.filter(team_id__in=teams)
        if data["service"]:
            calls = calls.filter(service_slug=data["service"])
        if data["status"]:
            calls = calls.filter(status_class=data["status"])
        if data["user"]:
            calls = calls.filter(username=data["user"])
        if data["since"] and dates:
            calls = calls.filter(created_at__gte=start_of(data["since"]))
        if data["until"] and dates:
            calls = calls.filter(created_at__lt=start_of(data["until"] + timedelta(days=1)))
        if data["path"] and path:
            calls = calls.filter(url__icontains=data["path"])
        if data["streamed"] is not None:
            calls = calls.filter(streamed=data["streamed"])
        if data["run"]:
            calls = calls.filter(run_id=data["run"])
        elif data["source"] == "":
            calls = calls.filter(EVERYDAY)
        if data["source"] not in ("", "all"):
            calls = calls.filter(source=data["source"])
        return calls


def _tighter(one, other, pick):
    """Of two places in the page's order (created_at, id), the earlier (pick=min) or the later
    (max); a place without an id stands before every call of its instant."""
    if one is None or other is None:
        return other if one is None else one
    return pick(one, other, key=lambda place: (place[0], place[1] or 0))


def _between(calls, upper, lower):
    """The calls older than `upper` and not older than `lower` (either may be None), each
    written as a range that an index reads from that point on: a NOT around a range would be
    a mere filter to SQLite, read to the index's end."""
    if upper is not None:
        at, call_id = upper
        if at is None:
            calls = calls.filter(id__lt=call_id)
        elif call_id is None:
            calls = calls.filter(created_at__lt=at)
        else:
            calls = calls.filter(created_at__lte=at).exclude(created_at=at, id__gte=call_id)
    if lower is not None:
        at, call_id = lower
        if at is None:
            calls = calls.filter(id__gte=call_id)
        elif call_id is None:
            calls = calls.filter(created_at__gte=at)
        else:
            calls = calls.filter(created_at__gte=at).exclude(created_at=at, id__lt=call_id)
    return calls


def row_type(fields):
    """A light stand-in for Call with only these fields (a named tuple: no model instance to
    build per row), and its request_headers and response_headers when it has their pairs."""
    class CallRow(namedtuple("CallRow", fields)):
        __slots__ = ()

        @property
        def request_headers(self):
            return dict(self.request_header_pairs)

        @property
        def response_headers(self):
            return dict(self.response_header_pairs)

    return CallRow


def batches(calls, fields, bodies=True):
    """The calls, newest first, as lists of row_type(fields): keyset batches whose bodies add
    up to about BATCH_BODY_BYTES at most (one larger call alone), so that any number of calls of
    any size is read in bounded memory; bodies=False when fields holds no body. Calls written
    meanwhile are left out (ids only go down)."""
    row = row_type(fields)
    last = None
    while True:
        window = calls if last is None else calls.filter(id__lt=last)
        window = window.order_by("-id")
        sized = (window.annotate(size=Length("request_body") + Length("response_body"))
                 .values_list("id", "size") if bodies else window.values_list("id", Value(0)))
        ids = list(sized[:BATCH_IDS])
        if not ids:
            return
        for newest, oldest in _grouped(ids):
            rows = window.filter(id__lte=newest, id__gte=oldest).values_list(*fields)
            yield [row._make(values) for values in rows]
        last = ids[-1][0]


def _grouped(sized_ids):
    """(newest id, oldest id) of each run of the ids, newest first, whose sizes add up to
    BATCH_BODY_BYTES at most (or that is one id alone)."""
    newest, oldest, total = None, None, 0
    for call_id, size in sized_ids:
        if newest is not None and total + (size or 0) > BATCH_BODY_BYTES:
            yield newest, oldest
            newest, total = None, 0
        if newest is None:
            newest = call_id
        oldest = call_id
        total += size or 0
    yield newest, oldest


def start_of(day):
    """The instant day begins in the portal's time zone (TIME_ZONE), in UTC. 0001-01-01 begins
    before the first instant UTC can write east of UTC (as 0000-12-31): the earliest instant
    there is stands in for it, which keeps the same rows, as the latest would at the other end."""
    start = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
    try:
        return start.astimezone(UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if day.year == 1 else datetime.max.replace(
            tzinfo=UTC)


def error_text(form):
    """One readable sentence from a bound form's errors."""
    messages = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return " ".join(messages)
