"""The background tasks, through Django's tasks API (the django-tasks backport): the database
backend by default, Redis (django-tasks-rq) as the scale path; settings.TASKS chooses."""

from django_tasks import task

from services.runs import engine


@task()
def capacity_run(run_id: int) -> None:
    """Executes the queued capacity run run_id (services/runs/engine.py)."""
    engine.execute(run_id)
