"""Behaviour behind the schema: decode IDs, take the viewer, call one domain action, map errors."""
