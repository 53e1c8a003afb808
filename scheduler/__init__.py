"""Timed work (reminders, escalation, daily status, weekly digest): triggers only, state in rows."""
