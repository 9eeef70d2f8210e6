"""Numbers as people read them."""

from __future__ import annotations


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def saving(n: int | None, partial: bool) -> str:
    """An estimate of bytes no longer stored twice, as the reports say it.

    ``partial``: part of the content (a venv, a clone, a package install) cannot be sized without building, so
    the figure is a lower bound and the rest is "unknown"; only `dockerfix verify` measures it.
    """
    if partial:
        return f"{human_bytes(n)} + unknown" if n else "an unknown amount"
    return f"≈ {human_bytes(n or 0)}"
