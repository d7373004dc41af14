"""`manage.py run_worker`: the background worker of Django's tasks API, which executes capacity
runs (services/runs/). With the database backend (the default) it is django-tasks-db's
db_worker, except that a stop signal also ends a run in progress at once (recorded as failed,
with what it measured) instead of waiting for its last request; with EASPORTAL_TASKS_BACKEND=rq
it is django-rq's rqworker with the job class django-tasks-rq needs. `make run` starts it."""

from argparse import BooleanOptionalAction

from django.conf import settings
from django.core.management import call_command
from django_tasks_db.management.commands import db_worker

from services.runs import engine


class Worker(db_worker.Worker):
    def shutdown(self, signum, frame):
        engine.SHUTDOWN.set()
        super().shutdown(signum, frame)


class Command(db_worker.Command):
    help = "Run the background worker that executes capacity runs."

    def add_arguments(self, parser):
        if settings.EASPORTAL_TASKS_BACKEND != "rq":
            super().add_arguments(parser)
            return
        # rqworker's own: the queues, and --burst (run what is queued, then exit). The
        # database worker's options are accepted, so that one command line starts either.
        parser.add_argument("--queue-name", default="default")
        parser.add_argument("--burst", action="store_true")
        parser.add_argument("--interval", type=float, default=1)
        parser.add_argument("--no-startup-delay", action="store_true")
        parser.add_argument("--reload", action=BooleanOptionalAction, default=False)

    def handle(self, *args, **options):
        if settings.EASPORTAL_TASKS_BACKEND == "rq":
            call_command("rqworker", *options["queue_name"].split(","),
                         job_class="django_tasks_rq.Job", burst=options["burst"],
                         verbosity=options["verbosity"])
            return
        self.handle_database(**options)

    def handle_database(self, *, verbosity, queue_name, interval, batch, backend_name,
                        startup_delay, max_tasks, worker_id, exclude_queues, **options):
        self.configure_logging(verbosity)
        worker = Worker(
            queue_names=queue_name.split(","), interval=interval, batch=batch,
            backend_name=backend_name, startup_delay=startup_delay, max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
        )
        worker.configure_signals()
        worker.run()
