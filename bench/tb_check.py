#!/usr/bin/env python3
"""Reads a looplab run folder's TensorBoard event files with TensorBoard's own reader and prints
every scalar, to check that TensorBoard understands what looplab writes by hand.

    pip install tensorboard
    python3 bench/tb_check.py runs/nano-ablation/<time>

Exits non-zero if a variant's event file holds no scalars or a value is not a finite number.
"""
import math
import pathlib
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main(run: pathlib.Path) -> int:
    board = run / "tensorboard"
    variants = sorted(p for p in board.iterdir() if p.is_dir()) if board.is_dir() else []
    if not variants:
        print(f"{board}: no variant folders with event files", file=sys.stderr)
        return 1
    problems = 0
    for variant in variants:
        acc = EventAccumulator(str(variant), size_guidance={"scalars": 0})  # 0: keep every point
        acc.Reload()
        tags = acc.Tags()["scalars"]
        print(f"== {variant.name}: {len(tags)} scalar tags")
        if not tags:
            problems += 1
        for tag in sorted(tags):
            events = acc.Scalars(tag)
            bad = [e for e in events if not math.isfinite(e.value)]
            problems += len(bad)
            first, last = events[0], events[-1]
            print(f"  {tag:40s} {len(events):5d} points  step {first.step:>6d}: {first.value:.6g}  ->  step {last.step:>6d}: {last.value:.6g}"
                  f"  (wall time {first.wall_time:.0f}..{last.wall_time:.0f})")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(pathlib.Path(sys.argv[1])))
