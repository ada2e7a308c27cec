"""``flask jobs ...``: the consumer that works through the queue, and a look at failures."""

from __future__ import annotations

import logging

import click
from huey import MemoryHuey

from portal.extensions import db, jobs
from portal.services.reporting.jobs import failures

jobs_cli = click.Group(
    "jobs", help="Background jobs: emails, the periodic sweeps and long work from the web."
)


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Jobs run at the same time (threads).")  # fmt: skip
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also enqueue the periodic jobs (reminders, reconciliation). With several "
    "consumers on one Redis, only one should.",
)
@click.option("--max-delay", default=2.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="Longest pause, in seconds, between looks at an idle queue.")  # fmt: skip
def worker_command(workers: int, periodic: bool, max_delay: float) -> None:
    """Run the job consumer until stopped (SIGTERM or Ctrl-C finish the running jobs first)."""
    huey = jobs.huey()
    if isinstance(huey, MemoryHuey):
        raise click.ClickException(
            "JOBS_URL is memory:// (or JOBS_IMMEDIATE is on): no other process can see this "
            "queue. Use sqlite:///path or redis://host:6379/1."
        )
    portal_logger = logging.getLogger("portal")
    huey_logger = logging.getLogger("huey")
    for handler in portal_logger.handlers:
        if handler not in huey_logger.handlers:
            huey_logger.addHandler(handler)
    huey_logger.setLevel(portal_logger.level or logging.INFO)
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=periodic, max_delay=max_delay
    )
    click.echo(f"Job consumer: {workers} worker(s), periodic jobs {'on' if periodic else 'off'}.")
    consumer.run()


@jobs_cli.command("failed")
def failed_command() -> None:
    """List the jobs that failed every attempt and were not retried (as on the Jobs page)."""
    page = failures(db.session, include_retried=False, page=1)
    for failure in page.items:
        click.echo(
            f"#{failure.id} {failure.failed_at:%Y-%m-%d %H:%M} UTC {failure.task_name}: "
            f"{failure.error.splitlines()[0] if failure.error else ''}"
        )
    click.echo(f"{page.total} failed job(s) waiting for a retry.")
    db.session.rollback()
