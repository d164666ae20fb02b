"""Periodic jobs of the logistics domain (scheduled by server/jobs.py)."""

from __future__ import annotations

from config.jobs import Job

JOBS: list[Job] = []
