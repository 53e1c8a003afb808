"""The edges: one adapter per chat platform, settings, wiring and the command line."""
