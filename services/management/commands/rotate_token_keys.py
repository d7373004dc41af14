from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from services import kept, tokens
from services.management.language import in_the_shells_language
from services.models import Service


class Command(BaseCommand):
    help = (
        "Re-encrypt every service token with the first key of EASPORTAL_TOKEN_KEYS. "
        "Afterwards the other keys can be removed."
    )

    @in_the_shells_language
    def handle(self, *args, **options):
        unreadable = []
        rotated = 0
        for pk, slug, ciphertext in Service.objects.values_list("pk", "slug", "token_encrypted"):
            # Each token is replaced only if it is still what was read (compare-and-set): a
            # token a maintainer set meanwhile is already under the current first key, and is
            # left alone; an edit of other fields never writes the token back (Service.save).
            while True:
                try:
                    new = tokens.rotate_token(ciphertext)
                except tokens.TokenUnreadable:
                    unreadable.append(slug)
                    break
                if Service.objects.filter(pk=pk, token_encrypted=ciphertext).update(
                        token_encrypted=new):
                    rotated += 1
                    break
                ciphertext = Service.objects.filter(pk=pk).values_list(
                    "token_encrypted", flat=True).first()
                if ciphertext is None:  # deleted meanwhile
                    break
        if rotated:  # an update sends no signal: the servers' kept rows end here
            kept.changed(Service.objects.db)
        self.stdout.write(_("Re-encrypted %(count)s token(s) with the first key.")
                          % {"count": rotated})
        if unreadable:
            raise CommandError(_(
                "%(count)s token(s) could not be decrypted with any configured key and were left "
                "as they were: %(services)s. Keep the old key until a maintainer re-enters them."
            ) % {"count": len(unreadable), "services": ", ".join(unreadable)})
