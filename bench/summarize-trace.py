"""Where the time of one training step goes: GPU kernel time by kind, from a Chrome trace written by
`looplab bench train --profile` (DJL's profiler) or `bench/reference.py --profile` (torch.profiler).

    python3 bench/summarize-trace.py trace.json [more.json ...]
"""
import json
import re
import sys
from collections import defaultdict

KINDS = [  # first match wins
    ("attention (flash/efficient)", r"flash|fmha|attention|efficient"),
    ("matmul (gemm)", r"gemm|cutlass|sm90|ampere|cublas|xmma|wgmma|aten::mm|aten::bmm|addmm|matmul"),
    ("optimizer (fused adamw / foreach)", r"adam|foreach|multi_tensor"),
    ("softmax / cross-entropy", r"softmax|nll|cross_entropy|log_softmax"),
    ("norm", r"norm"),
    # A cast is a copy whose load or store converts (LoadWithCast / StoreWithCast) or an explicit
    # conversion; "nocast" in PyTorch's gpu_kernel_impl_nocast names an ordinary element-wise kernel
    # and is removed before matching (it used to double the share counted as casts).
    ("copies / casts", r"copy|memcpy|memset|withcast|\bcast|convert|_to_copy"),
    ("reductions", r"reduce"),
    ("element-wise", r"elementwise|vectorized|unrolled|pointwise|index"),
]


def kind(name):
    lowered = name.lower().replace("nocast", "").replace("withoutcast", "")
    for label, pattern in KINDS:
        if re.search(pattern, lowered):
            return label
    return "other"


def leaves(events):
    """Events that contain no other event of the same thread."""
    out = []
    by_thread = defaultdict(list)
    for e in events:
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    for group in by_thread.values():
        group.sort(key=lambda e: (e["ts"], -e["dur"]))
        for i, e in enumerate(group):
            nxt = group[i + 1] if i + 1 < len(group) else None
            if nxt is None or nxt["ts"] >= e["ts"] + e["dur"]:
                out.append(e)
    return out


def summarize(path):
    with open(path) as f:
        events = json.load(f)
    events = events.get("traceEvents", events) if isinstance(events, dict) else events
    kernels = [e for e in events if e.get("ph") == "X" and str(e.get("cat", "")).lower() in ("kernel", "gpu_memcpy", "gpu_memset")]
    if not kernels:
        # DJL writes the legacy profiler's format: ops on a "CUDA functions" timeline when the GPU
        # was profiled, else on "CPU Functions". Nested ops overlap, so count leaf ops only.
        timeline = [e for e in events if e.get("ph") == "X" and "cuda" in str(e.get("pid", "")).lower()] or \
                   [e for e in events if e.get("ph") == "X"]
        kernels = leaves(timeline)
    if not kernels:
        print(f"{path}: no events in the trace")
        return
    start = min(e["ts"] for e in kernels)
    end = max(e["ts"] + e["dur"] for e in kernels)
    busy = sum(e["dur"] for e in kernels)
    by_kind = defaultdict(float)
    by_name = defaultdict(float)
    for e in kernels:
        by_kind[kind(e["name"])] += e["dur"]
        by_name[e["name"][:90]] += e["dur"]
    print(f"\n{path}: {len(kernels)} kernels, GPU busy {busy / 1e3:.1f} ms of a {(end - start) / 1e3:.1f} ms span ({100 * busy / (end - start):.0f}%)")
    for label, us in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"  {100 * us / busy:5.1f}%  {us / 1e3:8.2f} ms  {label}")
    print("  top kernels:")
    for name, us in sorted(by_name.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {us / 1e3:8.2f} ms  {name}")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        summarize(p)
