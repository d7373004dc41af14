from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

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
        with transaction.atomic():
            services = Service.objects.select_for_update().only("pk", "slug", "token_encrypted")
            for service in services:
                try:
                    service.token_encrypted = tokens.rotate_token(service.token_encrypted)
                except tokens.TokenUnreadable:
                    unreadable.append(service.slug)
                    continue
                service.save(update_fields=["token_encrypted"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} token(s) with the first key.")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} token(s) could not be decrypted with any configured key and "
                f"were left as they were: {', '.join(unreadable)}. Keep the old key until a "
                "maintainer re-enters them."
            )
