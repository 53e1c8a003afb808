"""Telegram, through python-telegram-bot 22."""

import os

# Opt in now to PTB's coming timedelta fields (live_period, retry_after) instead of
# reading the deprecated integer forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")
