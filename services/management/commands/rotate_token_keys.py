from django.core.management.base import BaseCommand, CommandError

from services import tokens
from services.models import Service


class Command(BaseCommand):
    help = (
        "Re-encrypt every service token with the first key of EASPORTAL_TOKEN_KEYS. "
        "Afterwards the other keys can be removed."
    )

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
        self.stdout.write(f"Re-encrypted {rotated} token(s) with the first key.")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} token(s) could not be decrypted with any configured key and "
                f"were left as they were: {', '.join(unreadable)}. Keep the old key until a "
                "maintainer re-enters them."
            )
