"""The sync stage: `run_sync`, which `refresh` and the scheduler sequence."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Engine

from shelfcheck.catalog.catalogfile import CatalogReader, RecipeValidator, packaged_catalog_path
from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.runs import StepResult, failed_step, finish_run, start_run
from shelfcheck.catalog.states import RunKind, RunOutcome, Step
from shelfcheck.catalog.sync import last_synced_hash, sync_catalog_file
from shelfcheck.config import Settings


def run_sync(
    settings: Settings, engine: Engine, *, recipe_validator: RecipeValidator | None = None
) -> StepResult:
    """Sync the catalog file (catalog_file, or the packaged guide) when its hash changed.

    Records a `sync` run. `recipe_validator` checks each provider's recipe while loading (the
    crawler's, passed in by the caller: the catalog layer does not import the crawler).
    """
    run_id = start_run(engine, RunKind.SYNC)
    try:
        unchanged = _unchanged_catalog(settings, engine)
        if unchanged is not None:  # the usual case: no need to parse a large file again
            with transaction(engine) as session:
                finish_run(session, run_id, RunOutcome.OK, unchanged)
            return StepResult(Step.SYNC, RunOutcome.OK, run_id, f"{unchanged['source']} unchanged",
                              unchanged)
        reader = CatalogReader(settings.catalog_file, recipe_validator=recipe_validator)
        with transaction(engine) as session:
            if last_synced_hash(session) == reader.sha256:
                stats = {"changed": False, "sha256": reader.sha256, "source": reader.source}
                finish_run(session, run_id, RunOutcome.OK, stats)
                return StepResult(Step.SYNC, RunOutcome.OK, run_id, f"{reader.source} unchanged",
                                  stats)
            synced = sync_catalog_file(session, reader)
            stats = {"changed": synced.changed, "sha256": reader.sha256, "source": reader.source,
                     "added": len(synced.added), "updated": len(synced.updated),
                     "retired": len(synced.retired), "restored": len(synced.restored),
                     "providers_changed": len(synced.providers_changed)}
            finish_run(session, run_id, RunOutcome.OK, stats)
        return StepResult(Step.SYNC, RunOutcome.OK, run_id,
                          f"synced {reader.source}: {synced.summary()}", stats)
    except Exception as exc:
        result = failed_step(Step.SYNC, exc, run_id)
        with transaction(engine) as session:
            finish_run(session, run_id, RunOutcome.FAILED, result.stats, detail=str(exc))
        return result


def _unchanged_catalog(settings: Settings, engine: Engine) -> dict[str, object] | None:
    """The sync stats when the catalog file's bytes hash to the hash synced last, else None."""
    path = Path(settings.catalog_file) if settings.catalog_file else packaged_catalog_path()
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # CatalogReader reports it
    with transaction(engine) as session:
        if last_synced_hash(session) != digest:
            return None
    return {"changed": False, "sha256": digest, "source": str(path)}
