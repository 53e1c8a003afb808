"""The storage edge: tables, sessions, migrations, the media store."""
