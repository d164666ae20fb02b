"""Periodic jobs of the crm domain (scheduled by server/jobs.py)."""

from __future__ import annotations

from config.jobs import Job
from crm.rfm import rfm_job

JOBS: list[Job] = [
    # RFM and the purchase summary behind segment previews: hourly.
    Job(name="crm.rfm_refresh", every_s=3600, body=rfm_job),
]
