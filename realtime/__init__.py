"""Pub/sub between server processes. GraphQL-agnostic."""
