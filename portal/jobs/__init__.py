"""Background jobs: emails, periodic sweeps and long work started from the web, on a Huey
queue that a consumer process (``flask --app wsgi jobs worker``) works through.

``portal.extensions.jobs`` is the queue; the tasks are declared in ``portal.jobs.mail`` (every
email) and ``portal.api.tasks`` (the reconciliation sweep).
"""

from portal.jobs.queue import Job, JobQueue, JobsNotConfigured, Progress, UnknownJob

__all__ = ["Job", "JobQueue", "JobsNotConfigured", "Progress", "UnknownJob"]
