import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from services.management.language import in_the_shells_language


class Command(BaseCommand):
    help = "Create the superuser 'admin' with a generated password, when there is no user at all."

    @in_the_shells_language
    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.exists():
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", password=password)
        # Printed once: only its hash is stored.
        self.stdout.write(_("Created the user 'admin' with the password: %(password)s")
                          % {"password": password})
        self.stdout.write(_("It is shown only this once; change it under Admin > Users."))
