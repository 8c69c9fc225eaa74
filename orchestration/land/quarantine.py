"""Rejected price files leave the load: moved to a quarantine folder beside a file saying why."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from orchestration.land.validation import PriceProblem


def quarantine_file(path: Path, problems: list[PriceProblem], folder: Path, when: datetime) -> Path:
    """Move `path` into `folder` (copy it when it cannot be moved, e.g. a read-only share) and write
    `<name>.reason.txt` beside it. Returns the quarantined file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{when:%Y%m%dT%H%M%S}-{path.name}"
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
