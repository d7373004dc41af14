"""Teams and their members. Who may see or change what is services/access.py's to answer."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from services.errors import Refusal

# Words that would shadow a page of their own under /services/ or /teams/.
RESERVED_SLUGS = {"new"}

LAST_MAINTAINER = _("A team keeps at least one maintainer: make someone else maintainer first.")


def validate_slug_not_reserved(value):
    if value in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is reserved; choose another slug."), params={"slug": value}
        )


class Role(models.TextChoices):
    MEMBER = "member", _("member")
    MAINTAINER = "maintainer", _("maintainer")


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

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")

    def __str__(self):
        return self.name

    def save_with_maintainer(self, user):
        """Saves a new team with its creator as maintainer: a team never has none."""
        with transaction.atomic():
            self.save()
            Membership.objects.create(team=self, user=user, role=Role.MAINTAINER)

    def put_member(self, user, role):
        """Adds the user with the role, or gives a member the role: (membership, what
        happened: "added", "changed" or "unchanged"). Refuses (409) to leave no maintainer."""
        membership, created = Membership.objects.get_or_create(
            team=self, user=user, defaults={"role": role})
        if created:
            return membership, "added"
        if membership.role == role:
            return membership, "unchanged"
        membership.change_role(role)
        return membership, "changed"


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
        """Refuses (409) rather than leave the team without a maintainer."""
        with transaction.atomic():
            self._lock_team()
            if role != Role.MAINTAINER and self._is_last_maintainer():
                raise Refusal(409, LAST_MAINTAINER)
            self.role = role
            self.save(update_fields=["role"])

    def remove(self):
        with transaction.atomic():
            self._lock_team()
            if self._is_last_maintainer():
                raise Refusal(409, LAST_MAINTAINER)
            self.delete()

    def _lock_team(self):
        # Two maintainers demoting each other at once must not leave the team without one.
        Team.objects.select_for_update().only("pk").get(pk=self.team_id)

    def _is_last_maintainer(self):
        maintainers = self.team.memberships.filter(role=Role.MAINTAINER)
        return self.role == Role.MAINTAINER and maintainers.count() == 1


class Profile(models.Model):
    """What a person chose for themselves: the language of the portal (empty: the browser's)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="profile")
    language = models.CharField(_("language"), max_length=10, blank=True,
                                choices=settings.LANGUAGES)

    def __str__(self):
        return f"{self.user}: {self.language or '-'}"

    @classmethod
    def language_of(cls, user):
        return cls.objects.filter(user=user).values_list("language", flat=True).first() or ""
