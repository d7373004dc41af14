from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from services.models import Call, ProbeHour
from services.models.probes import hour_number


class Command(BaseCommand):
    help = ("Delete recorded calls (probes' included) and the probes' hourly counts older than "
            "EASPORTAL_HISTORY_DAYS (0 keeps them all).")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="Override EASPORTAL_HISTORY_DAYS for this run.")

    def handle(self, *args, days=None, **options):
        days = settings.EASPORTAL_HISTORY_DAYS if days is None else days
        if days <= 0:
            self.stdout.write("History retention is off (0 days): nothing deleted.")
            return
        cutoff = timezone.now() - timedelta(days=days)
        deleted, _ = Call.objects.filter(created_at__lt=cutoff).delete()
        hours, _ = ProbeHour.objects.filter(hour__lt=hour_number(cutoff)).delete()
        self.stdout.write(f"Deleted {deleted} call(s) and {hours} hourly probe count(s) older "
                          f"than {days} day(s).")
