"""Precision and recall of the verdicts of a 200 on the labelled corpus (tests/corpus/verdicts).

Prints, per split (tune, holdout, hard, all) and per class, precision / recall / F1 of shelfcheck's
rules, and of two peers measured on the same cases in the same run:

- "status only": what linkinator, lychee, muffet, htmltest and LinkChecker do with a 200 (they
  do not read it: every 200 is ok, see shared/research/link-checkers.md);
- "before #12": shelfcheck's regular-expression not-found rule as it was before issue #12
  (read from git, commit ef96bf8), for soft-404 only.

Also the time to parse and judge one page.

    .venv/bin/python benchmarks/verdicts.py [--show-wrong]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.corpus.verdicts.evaluate import Score, predict, score  # noqa: E402
from tests.corpus.verdicts.generate import LABELS, Case, build  # noqa: E402

BEFORE = "ef96bf8"


def _old_rule() -> types.ModuleType | None:
    try:
        text = subprocess.run(["git", "show", f"{BEFORE}:crawler/linkanalysis.py"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("linkanalysis_before")
    sys.modules[module.__name__] = module
    exec(compile(text, "linkanalysis_before.py", "exec"), module.__dict__)
    return module


def _big_page() -> bytes:
    from tests.corpus.verdicts.platforms import SHELLS
    from tests.corpus.verdicts.texts import TOPICS

    items = "".join(
        f"<div class='item'><h3>{title}</h3>" + "".join(f"<p>{s}</p>" for s in sentences)
        + "<ul>" + "".join(f"<li><a href='/x/{i}'>link {i}</a></li>" for i in range(20))
        + "</ul></div>" for title, _slug, sentences in TOPICS * 12)
    return SHELLS["drupal9"]("site", "Big page", items, "").encode()[:262144]


BIG_PAGE = _big_page()


def _time_big() -> float:
    from shelfcheck.crawler.content.judge import judge

    start = time.perf_counter()
    for _ in range(10):
        judge("https://x.org/a", "https://x.org/a", BIG_PAGE)
    return (time.perf_counter() - start) / 10 * 1000


def _table(title: str, scores: dict[str, Score]) -> None:
    print(f"\n{title}")
    print(f"  {'class':16} {'n':>4} {'P':>6} {'R':>6} {'F1':>6}")
    for label in LABELS:
        s = scores[label]
        if not s.tp + s.fn + s.fp:
            continue  # the class is absent from this split and nothing was called it
        p = f"{s.precision:6.3f}" if s.tp + s.fp else "     —"  # nothing called this class
        print(f"  {label:16} {s.tp + s.fn:>4} {p} {s.recall:6.3f} {s.f1:6.3f}")


def _peer_scores(cases: list[Case], guess: dict[str, str]) -> dict[str, Score]:
    out = {}
    for label in LABELS:
        tp = sum(1 for c in cases if c.label == label and guess[c.id] == label)
        fp = sum(1 for c in cases if c.label != label and guess[c.id] == label)
        fn = sum(1 for c in cases if c.label == label and guess[c.id] != label)
        out[label] = Score(label, tp, fp, fn)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-wrong", action="store_true", help="list misclassified cases")
    args = parser.parse_args()
    cases = build()
    platforms = sorted({c.platform for c in cases if c.label != "parked"
                        and c.platform != "stub"})
    print(f"corpus: {len(cases)} cases, {len(platforms)} platform shells "
          f"({', '.join(platforms)}), plus {sum(c.label == 'parked' for c in cases)} parking "
          f"pages of {len({c.platform for c in cases if c.label == 'parked'})} services")
    start = time.perf_counter()
    for case in cases:
        predict(case)
    per_page = (time.perf_counter() - start) / len(cases) * 1000
    for split in ("tune", "holdout", "hard", "all"):
        part = [c for c in cases if split == "all" or c.split == split]
        scores, wrong, _counts = score(part)
        _table(f"shelfcheck, {split} ({len(part)} cases)", scores)
        broken_maintenance = sum(1 for c, p in wrong if c.label == "maintenance"
                                 and p in ("soft_404", "parked", "drifted"))
        print(f"  maintenance called broken: {broken_maintenance}")
        if args.show_wrong:
            for case, got in wrong:
                print(f"    WRONG {case.id} {case.platform} {case.label} -> {got}")
    status_only = _peer_scores(cases, {c.id: "ok" for c in cases})
    _table(f"peers, status only (every 200 is ok), all ({len(cases)} cases)", status_only)
    old = _old_rule()
    if old is not None:
        guess = {}
        for c in cases:
            guess[c.id] = "soft_404" if c.baseline is None and old.not_found_phrase(c.body) \
                else "ok"
        s = _peer_scores(cases, guess)["soft_404"]
        print(f"\nshelfcheck before #12 ({BEFORE}), soft-404 by wording only, all: "
              f"P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f}")
    print(f"\nparse + judge: {per_page:.2f} ms per page (mean over {len(cases)})")
    print(f"parse + judge of one {len(BIG_PAGE) // 1024} KB page (body_prefix_size): "
          f"{_time_big():.1f} ms (mean of 10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
