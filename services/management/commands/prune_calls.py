from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from services.management.language import in_the_shells_language
from services.models import Call, ProbeHour
from services.models.probes import hour_number


class Command(BaseCommand):
    help = ("Delete recorded calls (probes' included) and the probes' hourly counts older than "
            "EASPORTAL_HISTORY_DAYS (0 keeps them all).")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="Override EASPORTAL_HISTORY_DAYS for this run.")

    @in_the_shells_language
    def handle(self, *args, days=None, **options):
        days = settings.EASPORTAL_HISTORY_DAYS if days is None else days
        if days <= 0:
            self.stdout.write(_("History retention is off (0 days): nothing deleted."))
            return
        cutoff = timezone.now() - timedelta(days=days)
        deleted, _by_model = Call.objects.filter(created_at__lt=cutoff).delete()
        hours, _by_model = ProbeHour.objects.filter(hour__lt=hour_number(cutoff)).delete()
        self.stdout.write(_("Deleted %(calls)s call(s) and %(hours)s hourly probe count(s) older "
                            "than %(days)s day(s).") % {"calls": deleted, "hours": hours,
                                                        "days": days})
