"""Signals other apps listen to, so that zoning imports none of them."""

from django.dispatch import Signal

# Sent inside plan_revise's transaction with ``source`` and ``draft`` (ZoningPlan): copy what you keep per plan.
plan_revised = Signal()
