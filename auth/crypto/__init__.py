"""Password and token primitives: hashing, digests, token generation.

The lowest layer of `auth`: it imports nothing of ours but `settings`, so `models/` may use it.
`auth/policies.py`, `auth/permissions.py` and `auth/backend.py` stand above `models/`."""
