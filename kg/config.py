"""Where DLOM keeps its data and which store it opens, from the environment."""
from __future__ import annotations

import os
from pathlib import Path


def dlom_home() -> Path:
    """The data directory: env ``DLOM_HOME``, else ``~/.local/share/dlom``."""
    return Path(os.environ.get("DLOM_HOME") or Path.home() / ".local" / "share" / "dlom").expanduser()


def store_url() -> str:
    """The store URL: env ``DLOM_STORE``, else the embedded Oxigraph store under :func:`dlom_home`."""
    return os.environ.get("DLOM_STORE") or f"oxigraph://{(dlom_home() / 'store').resolve()}"
