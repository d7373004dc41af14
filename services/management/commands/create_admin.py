import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the superuser 'admin' with a generated password, when there is no user at all."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.exists():
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", password=password)
        # Printed once: only its hash is stored.
        self.stdout.write(f"Created the user 'admin' with the password: {password}")
        self.stdout.write("It is shown only this once; change it under Admin > Users.")
