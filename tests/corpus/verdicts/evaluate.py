"""Run the verdict rules on the corpus and score them per class (precision, recall, F1)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from shelfcheck.crawler.content.fingerprint import fingerprint
from shelfcheck.crawler.content.judge import judge
from shelfcheck.crawler.content.page import parse_page
from tests.corpus.verdicts.generate import LABELS, Case

# The verdict each label's pages should get, as a class of the corpus.
CLASS_OF_VERDICT = {
    None: "ok", "soft_404": "soft_404", "redirect_to_home": "soft_404",
    "maintenance": "maintenance", "login_required": "login_required", "parked": "parked",
    "content_changed": "drifted", "redirected": "redirect_stub",
}


def predict(case: Case) -> tuple[str, str | None]:
    """(class, verdict) the rules give a case."""
    baseline = None
    if case.baseline is not None:
        baseline = fingerprint(parse_page(case.baseline, case.content_type))
    result = judge(case.url, case.final_url or case.url, case.body, case.content_type,
                   baseline=baseline, catalog_title=case.catalog_title)
    verdict = result.finding.verdict if result.finding else None
    return CLASS_OF_VERDICT.get(verdict, verdict or "ok"), verdict


@dataclass(frozen=True)
class Score:
    label: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(cases: list[Case]) -> tuple[dict[str, Score], list[tuple[Case, str]], Counter[str]]:
    """Scores per label, the misclassified cases, and counts of labels."""
    results = [(case, predict(case)[0]) for case in cases]
    scores = {}
    for label in LABELS:
        tp = sum(1 for c, p in results if c.label == label and p == label)
        fp = sum(1 for c, p in results if c.label != label and p == label)
        fn = sum(1 for c, p in results if c.label == label and p != label)
        scores[label] = Score(label, tp, fp, fn)
    wrong = [(c, p) for c, p in results if c.label != p]
    return scores, wrong, Counter(c.label for c in cases)
