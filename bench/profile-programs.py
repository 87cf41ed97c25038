"""GPU kernel times of looplab's compiled training programs, by a route that does not depend on
DJL's JNI: `looplab bench train --dump-programs DIR` writes each program as the TorchScript archive
libtorch runs; this loads it with python3's libtorch (the same library DJL drives there), gives it
inputs of the recorded shapes (token ids in the recorded range, masks of ones, parameters drawn
N(0, 0.02²), gains 1), runs forward and backward a few times, and profiles one pass with
torch.profiler's CUDA activity. The summary uses summarize-trace.py's kernel classes.

    python3 bench/profile-programs.py DIR/osrt-v3-compiled-bf16mixed [--trace out.json]
"""
import argparse
import glob
import importlib.util
import json
import os

import torch

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("summarize_trace", os.path.join(here, "summarize-trace.py"))
summarize_trace = importlib.util.module_from_spec(spec)
spec.loader.exec_module(summarize_trace)


def inputs_for(meta, device):
    generator = torch.Generator(device=device).manual_seed(1)
    args = []
    for spec in meta["inputs"]:
        shape = spec["shape"]
        if spec["dtype"] == "int64":
            args.append(torch.randint(spec["low"], max(spec["high"], spec["low"] + 1), shape, device=device, generator=generator))
        else:
            args.append(torch.ones(shape, device=device) if spec.get("ones") else torch.rand(shape, device=device, generator=generator))
    params = []
    for shape in meta["params"]:
        p = torch.ones(shape, device=device) if len(shape) == 1 else torch.randn(shape, device=device, generator=generator) * 0.02
        params.append(p.requires_grad_())
    return args, params


def profile(path, warmup, trace):
    meta = json.load(open(path[:-3] + ".json"))
    device = torch.device("cuda")
    module = torch.jit.load(path, map_location=device)
    args, params = inputs_for(meta, device)
    torch._C._jit_set_graph_executor_optimize(False)  # as looplab runs it (see CompiledExecutor)

    def step():
        for p in params:
            p.grad = None
        outputs = module(*args, params)
        outputs[meta["lossOutput"]].backward()

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    step()
    end.record()
    torch.cuda.synchronize()
    print(f"{path}: forward + backward {start.elapsed_time(end):.1f} ms (CUDA events)")
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA, torch.profiler.ProfilerActivity.CPU]) as prof:
        step()
        torch.cuda.synchronize()
    out = trace or path[:-3] + ".trace.json"
    prof.export_chrome_trace(out)
    summarize_trace.summarize(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", help="folders written by --dump-programs (one per model and mode)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--trace", help="where to write the Chrome trace (default: beside the program)")
    args = parser.parse_args()
    for folder in args.folders:
        programs = sorted(glob.glob(os.path.join(folder, "program-*.pt")))
        if not programs:
            print(f"{folder}: no programs (was it written by `bench train --dump-programs`?)")
        for path in programs:
            profile(path, args.warmup, args.trace)


if __name__ == "__main__":
    main()
