"""`manage.py eas_emulator`: the emulator's own command line (emulator.cli) as a Django command.
The one place the portal imports the emulator package; see docs/emulator.md."""

from django.core.management.base import BaseCommand, CommandError

from emulator import cli


class Command(BaseCommand):
    help = "Serve the local EAS emulator: model services behind an EAS-like gateway."

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, host, port, config, tokens_per_s, threads, keep, **options):
        try:
            cli.run(host, port, config, out=self.stdout, tokens_per_s=tokens_per_s,
                    threads=threads, keep=keep)
        except cli.StartError as exc:
            # The same exit status as `python -m emulator` for the same mistake.
            raise CommandError(str(exc), returncode=2) from None
