"""Personal keys (docs/api.md, "Personal keys and the gateway"): a person's own, listed,
made (the key shown once) and revoked."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from services import keys
from services.api import schemas
from services.api.core import ERRORS, require_session
from services.errors import Refusal
from services.models import ApiKey

router = Router(tags=["keys"])


class KeyIn(schemas.Input):
    name: schemas.Text = Field(max_length=100)
    expires_at: datetime | None = Field(None, description="ISO 8601; null: never.")


class KeyOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The key itself: shown this once, never again.")


def _utc(value):
    return value.astimezone(UTC) if value else None


def key_out(key):
    return {"id": key.pk, "name": key.name, "prefix": key.prefix,
            "created_at": _utc(key.created_at), "last_used_at": _utc(key.last_used_at),
            "expires_at": _utc(key.expires_at)}


@router.get("/keys", response={200: list[KeyOut], **ERRORS})
def key_list(request):
    """Your keys that are not revoked, newest first."""
    mine = ApiKey.objects.filter(user_id=request.user.pk, revoked_at__isnull=True)
    return [key_out(key) for key in mine]


@router.post("/keys", response={201: KeyCreated, **ERRORS})
def key_create(request, payload: KeyIn):
    """A new key, in the answer this once; only from a logged-in session, not with a key."""
    require_session(request, _("make keys"))
    name = payload.name.strip()
    if not name:
        raise Refusal(400, _("name: give the key a name, such as the script or machine that "
                             "will use it."))
    if payload.expires_at is not None:
        if payload.expires_at.tzinfo is None:
            raise Refusal(400, _("expires_at: give a time zone, such as 2027-01-31T00:00:00Z."))
        if payload.expires_at <= timezone.now():
            raise Refusal(400, _("expires_at: the expiry must be in the future."))
    key, raw = keys.make(request.user, name, payload.expires_at)
    return Status(201, {**key_out(key), "key": raw})


@router.delete("/keys/{int:id}", response={204: None, **ERRORS})
def key_revoke(request, id: int):
    key = ApiKey.objects.filter(pk=id, user_id=request.user.pk, revoked_at__isnull=True).first()
    if key is None:
        raise Refusal(404, _("You have no key %(id)s.") % {"id": id})
    keys.revoke(key, request.user)
    return Status(204, None)
