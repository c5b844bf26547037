"""Files bakegen ships: inside the package in a wheel (``bakegen/templates``, ``bakegen/bake``),
at the top of a checkout (``templates/``, ``bake/``). The one place that knows both layouts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent


def package_path(name: str) -> Path:
    """``templates`` or ``bake``: the packaged folder when installed, else the checkout's."""
    packaged = _HERE / name
    return packaged if packaged.is_dir() else _HERE.parent / name


def data_json(name: str) -> Any:
    """A file of ``bakegen/data/``, parsed."""
    return json.loads((_HERE / "data" / name).read_text(encoding="utf-8"))
