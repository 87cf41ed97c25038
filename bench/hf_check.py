#!/usr/bin/env python3
"""Checks a looplab export with Hugging Face transformers, and times transformers' generate.

    looplab export --bench-model 125m --to exports/125m --check-logits
    python3 bench/hf_check.py exports/125m                  # logits vs looplab's, then generate speed

1. Logits: loads the folder with AutoModelForCausalLM (trust_remote_code for a looped export) in
   fp32, runs looplab_ids.npy through it and compares with looplab_logits.npy, which looplab wrote
   from the same weights: relative L2 error (must be <= 1e-4 in fp32) and the largest difference;
   then the same in bf16 (reported, bf16 tolerance 2e-2).
2. For a looped export, cached greedy decoding equals uncached (the modeling file's own cache).
3. Speed: greedy generate of --new tokens after random --prompt-token prompts, for each --batch,
   every row forced to the full length (min_new_tokens), in --dtype; tokens/s over all rows.
Prints one JSON line per measurement; exits 1 if a logits check fails.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from transformers import AutoModelForCausalLM


def load(folder, dtype, device):
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    remote = "LooplabForCausalLM" in config.get("architectures", [])
    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=remote, dtype=dtype)
    return model.to(device).eval(), config


def relative_l2(actual, reference):
    difference = np.linalg.norm((actual - reference).ravel())
    return float(difference / max(np.linalg.norm(reference.ravel()), 1e-3))


def check_logits(folder, device):
    ids_file = os.path.join(folder, "looplab_ids.npy")
    if not os.path.exists(ids_file):
        print(json.dumps({"check": "logits", "skipped": "no looplab_ids.npy (export with --check-logits)"}))
        return True
    ids = torch.from_numpy(np.load(ids_file)).to(device)
    reference = np.load(os.path.join(folder, "looplab_logits.npy"))
    passed = True
    for name, dtype, bound in (("fp32", torch.float32, 1e-4), ("bf16", torch.bfloat16, 2e-2)):
        model, _ = load(folder, dtype, device)
        if name == "fp32":
            # TF32 would cost the fp32 comparison its precision.
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        with torch.no_grad():
            logits = model(input_ids=ids, use_cache=False).logits.float().cpu().numpy()
        logits = logits[..., : reference.shape[-1]]
        error = relative_l2(logits, reference)
        ok = error <= bound
        passed &= ok or name != "fp32"
        print(json.dumps({"check": "logits", "dtype": name, "relative_l2": error, "max_abs": float(np.abs(logits - reference).max()),
                          "bound": bound, "passed": ok}), flush=True)
        del model
        torch.cuda.empty_cache() if device.startswith("cuda") else None
    return passed


def check_cache(folder, device, config):
    if "LooplabForCausalLM" not in config.get("architectures", []):
        return True
    model, _ = load(folder, torch.float32, device)
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(3, config["vocab_size"], (2, 12), generator=generator).to(device)
    mask = torch.ones_like(ids)
    with torch.no_grad():
        cached = model.generate(ids, attention_mask=mask, max_new_tokens=16, min_new_tokens=16, do_sample=False, use_cache=True, pad_token_id=0)
        uncached = model.generate(ids, attention_mask=mask, max_new_tokens=16, min_new_tokens=16, do_sample=False, use_cache=False, pad_token_id=0)
    same = bool(torch.equal(cached, uncached))
    print(json.dumps({"check": "modeling cache", "cached_equals_uncached": same}), flush=True)
    return same


def time_generate(folder, device, dtype, batches, prompt, new, repeats):
    model, config = load(folder, dtype, device)
    vocab = config["vocab_size"]
    for batch in batches:
        generator = torch.Generator().manual_seed(batch)
        ids = torch.randint(3, vocab, (batch, prompt), generator=generator).to(device)
        mask = torch.ones_like(ids)
        arguments = dict(attention_mask=mask, do_sample=False, use_cache=True, pad_token_id=config.get("pad_token_id", 0) or 0)
        with torch.no_grad():
            model.generate(ids, max_new_tokens=8, min_new_tokens=8, **arguments)  # warm-up
            best = None
            for _ in range(repeats):
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                start = time.perf_counter()
                out = model.generate(ids, max_new_tokens=new, min_new_tokens=new, **arguments)
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                elapsed = time.perf_counter() - start
                best = elapsed if best is None else min(best, elapsed)
        generated = out.shape[1] - prompt
        print(json.dumps({"measure": "transformers generate", "folder": folder, "dtype": str(dtype).replace("torch.", ""), "batch": batch,
                          "prompt": prompt, "new": generated, "seconds": best, "tokens_per_second": batch * generated / best}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", default="1,64", help="batch sizes to time, comma-separated")
    parser.add_argument("--prompt", type=int, default=128, help="prompt tokens")
    parser.add_argument("--new", type=int, default=256, help="new tokens per row")
    parser.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
    parser.add_argument("--repeats", type=int, default=2, help="timed generate calls per batch (the fastest counts)")
    parser.add_argument("--no-speed", action="store_true", help="only the checks")
    args = parser.parse_args()

    with open(os.path.join(args.folder, "config.json")) as f:
        config = json.load(f)
    passed = check_logits(args.folder, args.device)
    passed &= check_cache(args.folder, args.device, config)
    if not args.no_speed:
        dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
        torch.backends.cuda.matmul.allow_tf32 = True
        time_generate(args.folder, args.device, dtype, [int(b) for b in args.batch.split(",")], args.prompt, args.new, args.repeats)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
