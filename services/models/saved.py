"""Saved requests: the requests a team has made to work, kept beside the service they call
(docs/api.md, "Saved requests"). They follow the history's redaction rules: never the token,
and the value of a secret-looking header kept as "[redacted]", for its user to fill in."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.models.registry import Service


class SavedRequest(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="saved_requests")
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    endpoint = models.CharField(max_length=8, choices=Service.EndpointKind.choices)
    method = models.CharField(max_length=8)
    path = models.TextField(blank=True)
    # [name, value] pairs, in the order they are sent (as Call keeps them).
    header_pairs = models.JSONField(default=list)
    body = models.BinaryField(default=b"")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = [Lower("name"), "id"]  # as a person reads a list: Alpha, beta, Zeta
        verbose_name = _("saved request")

    def __str__(self):
        return f"{self.name} ({self.method} {self.path})"

    @property
    def headers(self):
        return dict(self.header_pairs)

    @headers.setter
    def headers(self, headers):
        self.header_pairs = list(headers.items())
