import os

from django.core.management.base import BaseCommand, CommandError

import emulator


class Command(BaseCommand):
    help = "Serve the local EAS emulator: model services behind an EAS-like gateway."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, help="default: EMULATOR_PORT, else 8001")
        parser.add_argument("--config", help='a JSON file {"services": {"<name>": {"token": '
                                             '..., "kind": ..., "model": ...}}}; default: '
                                             "the demo services that seed_demo registers")

    def handle(self, *args, host, port, config, **options):
        if port is None:
            try:
                port = int(os.environ.get("EMULATOR_PORT") or 8001)
            except ValueError:
                raise CommandError("EMULATOR_PORT must be a port number.") from None
        try:
            services = emulator.load_config(config) if config else None
            app = emulator.make_app(services)
            server = emulator.make_server(app, host, port)
        except (emulator.ConfigError, OSError) as exc:
            raise CommandError(str(exc)) from None
        port = getattr(server, "effective_port", port)
        self.stdout.write(f"EAS emulator on http://{host}:{port}/api/predict/<service> "
                          f"serving {', '.join(sorted(app.services))}")
        self.stdout.flush()  # read through a pipe by make run and the tests
        server.run()
