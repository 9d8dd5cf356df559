"""A baseline to measure against in the same run: another commit of this project, checked out
beside it with its own virtual environment, so that its servers can run next to ours.

    checkout = baseline_checkout("HEAD~3")
    command = [str(checkout.marketplace), "serve", ...]   # run with cwd=checkout.root

Checkouts are kept under BASELINE_DIR (default /tmp/marketplace-baselines), one per commit, and
reused by later runs: creating one costs a `git worktree add` and a `pip install -e .`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BASELINE_DIR = Path(os.environ.get("BASELINE_DIR", "/tmp/marketplace-baselines"))


@dataclass(frozen=True)
class Checkout:
    """One commit's tree and the interpreter that runs it."""

    commit: str
    root: Path

    @property
    def python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"

    @property
    def marketplace(self) -> Path:
        return self.root / ".venv" / "bin" / "marketplace"

    @property
    def label(self) -> str:
        return self.commit[:7]


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def resolve(ref: str) -> str:
    return _git("rev-parse", "--verify", f"{ref}^{{commit}}")


def baseline_checkout(ref: str) -> Checkout:
    """The commit `ref` names, checked out and installed (once per commit)."""
    commit = resolve(ref)
    root = BASELINE_DIR / commit
    checkout = Checkout(commit=commit, root=root)
    if checkout.marketplace.exists():
        return checkout
    BASELINE_DIR.mkdir(parents=True, exist_ok=True)
    if not root.exists():
        # Detached and outside the project: the checkout never moves a branch of ours.
        _git("worktree", "add", "--force", "--detach", str(root), commit)
    print(f"installing baseline {checkout.label} in {root} ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(root / ".venv")], check=True)
    subprocess.run(
        [str(checkout.python), "-m", "pip", "install", "-q", "-e", str(root)],
        check=True,
        cwd=root,
    )
    return checkout


def current_checkout() -> Checkout:
    """This working tree, as it is (uncommitted changes included)."""
    return Checkout(commit=_git("rev-parse", "HEAD"), root=PROJECT_ROOT)
