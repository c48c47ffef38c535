"""The fault-injection suite's ledger: trials and failures per fault, printed at the end of
the session (``python -m pytest -m faults``) by the hook in conftest.py.

Trial counts are reduced when ``CI=true``; ``FAULT_SEED`` sets the seed of every random
point (kill times, flipped bits), printed in the summary so that a failure can be replayed.
"""

from __future__ import annotations

import os
import random

CI = os.environ.get("CI") == "true"
SEED = int(os.environ.get("FAULT_SEED", "2017"))
LEDGER: dict[str, list[int]] = {}  # fault -> [trials, failures]


def trials(full: int, ci: int) -> int:
    """How many trials of a fault to run: ``ci`` under CI, else ``full``."""
    return ci if CI else full


def rng(fault: str) -> random.Random:
    """The random points of one fault, from FAULT_SEED and the fault's name."""
    return random.Random(f"{SEED}:{fault}")


def record(fault: str, failures: list[str], trials: int) -> None:
    """Enter a fault's trials and failures in the ledger, then fail the test if any failed."""
    entry = LEDGER.setdefault(fault, [0, 0])
    entry[0] += trials
    entry[1] += len(failures)
    assert not failures, f"{fault}: {len(failures)} of {trials} trials failed:\n" + "\n".join(
        failures
    )


def summary_lines() -> list[str]:
    width = max(len(fault) for fault in LEDGER)
    lines = [f"{'fault':<{width}} | trials | failures"]
    for fault, (count, failed) in LEDGER.items():
        lines.append(f"{fault:<{width}} | {count:>6} | {failed:>8}")
    total = [sum(entry[i] for entry in LEDGER.values()) for i in (0, 1)]
    lines.append(f"{'total':<{width}} | {total[0]:>6} | {total[1]:>8}")
    lines.append(f"FAULT_SEED={SEED}, CI={CI}")
    return lines
