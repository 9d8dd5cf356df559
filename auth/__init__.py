"""Identity: password hashing, tokens, request authentication, permissions and visibility policies."""
