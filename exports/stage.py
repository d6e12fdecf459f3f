"""The exports stage: `run_exports`, which `refresh` and the scheduler sequence."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from shelfcheck.catalog.db import snapshot
from shelfcheck.catalog.runs import SKIPPED, StepResult
from shelfcheck.catalog.states import RunOutcome, Step
from shelfcheck.config import Settings
from shelfcheck.exports import write_exports


def run_exports(settings: Settings, engine: Engine) -> StepResult:
    """Rewrite the configured exports (`exports`, into `exports_dir`)."""
    if not settings.exports:
        return StepResult(Step.EXPORTS, SKIPPED, summary="none configured (exports)")
    with snapshot(engine) as session:  # every file shows one state of the catalog
        paths = write_exports(session, settings.exports, Path(settings.exports_dir))
    written = [str(p) for p in paths]
    return StepResult(Step.EXPORTS, RunOutcome.OK, summary=f"wrote {', '.join(written)}",
                      stats={"paths": written})
