"""Rejected files leave the load: put into a quarantine folder beside a file saying why.

A file inside the warehouse's folder (a landing folder the pipeline owns) is moved there; a file
elsewhere belongs to its user and is copied, leaving the original in place."""

from __future__ import annotations

import shutil
from datetime import datetime
from itertools import count
from pathlib import Path

from orchestration import config


def _free_target(folder: Path, stamp: str, name: str) -> Path:
    """`<stamp>-<name>`, or `<stamp>-<n>-<name>` when an earlier file of the same name took it."""
    for n in count(1):
        target = folder / (f"{stamp}-{name}" if n == 1 else f"{stamp}-{n}-{name}")
        if not target.exists() and not target.with_name(target.name + ".reason.txt").exists():
            return target
    raise AssertionError("unreachable")


def quarantine_file(path: Path, problems: list, folder: Path, when: datetime, owned_folder: Path | None = None) -> Path:
    """Put `path` into `folder` and write `<name>.reason.txt` beside it; returns the quarantined file's path.

    The file is moved when it lies inside `owned_folder` (default: the warehouse's folder), else
    copied; it is copied too when it cannot be moved (e.g. a read-only share). `problems` are
    written one per line."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_target(folder, f"{when:%Y%m%dT%H%M%S}", path.name)
    owner = (owned_folder or config.warehouse_path().parent).resolve()
    if not path.resolve().is_relative_to(owner):
        shutil.copy2(path, target)
        how = f"copied here (the original, outside {owner}, was left in place)"
    else:
        try:
            shutil.move(str(path), target)
            how = "moved here"
        except OSError:
            shutil.copy2(path, target)
            how = "copied here (the original could not be moved)"
    reason = target.with_name(target.name + ".reason.txt")
    reason.write_text(
        f"{path} was rejected on {when:%Y-%m-%d %H:%M:%S} UTC and {how}; nothing of it was loaded.\n"
        "Fix the problems below and load the file again.\n\n" + "\n".join(str(p) for p in problems) + "\n"
    )
    return target
