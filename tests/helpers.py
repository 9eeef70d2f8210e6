"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

from dockerfix import transforms
from dockerfix.refactor.engine import run

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def fix(text: str, select: list[str] | None = None, unsafe: bool = False, path: Path | None = None) -> str:
    """Fix ``text`` with the test base images' facts known (``tests/testbases.py``), as a reader would find them."""
    from .testbases import table

    return run(text, select or transforms.names(), unsafe, path=path, bases=table()).output


def sample_dirs() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if (p / "Dockerfile").is_file())


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")
