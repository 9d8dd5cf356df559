"""Telemetry the operators read: traces (tracing.py), each switched on by its own settings."""
