"""Personal API keys: a person's way to call the JSON API and the gateway from scripts, CI and
SDKs without an EAS token (docs/api.md, "Personal keys and the gateway"). A key is stored only
as its SHA-256 hash, with a short prefix to tell keys apart; services/keys.py makes, checks and
counts them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    # "eap_" and the next 8 characters: enough to tell keys apart, far too little to guess one.
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The rate limit's fixed window, when the database counts (services/keys.py): the minute
    # being counted (since the epoch) and the requests in it.
    rate_window = models.BigIntegerField(default=0, db_default=0)
    rate_count = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")

    def __str__(self):
        return f"{self.prefix}… ({self.name})"

    @property
    def active(self):
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now())
