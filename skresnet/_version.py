"""The package version, in a module of its own so that any module can import it."""

__version__ = "0.4.0"


def release(version: str) -> tuple[int, ...]:
    """``"0.3.0"`` as ``(0, 3, 0)``; anything unreadable (``"<0.2"``) as ``(0,)``."""
    parts = []
    for part in version.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts) or (0,)
