"""Parked records: a finished provider's offerings, pickled to a temporary file until applied.

The listing crawl applies every provider's changes in one transaction at its end; a provider that
finishes early parks its records on disk meanwhile, so the crawl's memory holds one provider's
records at a time, not the whole guide's.
"""

from __future__ import annotations

import pickle
import tempfile

from shelfcheck.catalog.offerings import OfferingData


class ParkedRecords:
    """Records written to an unnamed temporary file; `take` reads them back, once."""

    def __init__(self, records: list[OfferingData]) -> None:
        self.count = len(records)
        # Open until `take`: the records wait in it while the crawl goes on.
        self._file = tempfile.TemporaryFile(prefix="shelfcheck-records-")  # noqa: SIM115
        pickle.dump(records, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.flush()

    def take(self) -> list[OfferingData]:
        self._file.seek(0)
        records: list[OfferingData] = pickle.load(self._file)
        self._file.close()
        return records
