"""Plain-PyTorch reference for `looplab bench train`: the same architectures, trained the way a
PyTorch user would (bf16 autocast, scaled_dot_product_attention, fused AdamW), eager or under
`torch.compile` (default mode), timed the same way (warm-up steps, then timed steps each ending
with the loss on the host). Compilation happens in the warm-up steps, which are not timed.

    python3 bench/reference.py --models nano,125m,osrt-v3 --modes eager,compile --seq 2048 --steps 10 --json out.jsonl
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NEOX_VOCAB = 50_304


def swiglu_hidden(width):
    # LLaMA's rule, as looplab's default: 8/3 of the width rounded up to a multiple of 64.
    return (8 * width // 3 + 63) // 64 * 64


class RMSNorm(nn.Module):
    def __init__(self, width, eps=1e-5):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(width))
        self.eps = eps

    def forward(self, x):
        x = x.float()
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.gain


def rope_tables(length, head, base, device):
    freq = 1.0 / base ** (torch.arange(0, head // 2, dtype=torch.float64, device=device) * 2 / head)
    angles = torch.outer(torch.arange(length, dtype=torch.float64, device=device), freq)
    angles = torch.cat([angles, angles], -1)
    return angles.cos().float(), angles.sin().float()


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., half:], x[..., :half]], -1) * sin


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.attn_norm = RMSNorm(width)
        self.wq = nn.Linear(width, width, bias=False)
        self.wk = nn.Linear(width, width, bias=False)
        self.wv = nn.Linear(width, width, bias=False)
        self.wo = nn.Linear(width, width, bias=False)
        self.mlp_norm = RMSNorm(width)
        hidden = swiglu_hidden(width)
        self.gate = nn.Linear(width, hidden, bias=False)
        self.up = nn.Linear(width, hidden, bias=False)
        self.down = nn.Linear(hidden, width, bias=False)

    def forward(self, x, cos, sin):
        b, t, w = x.shape
        h = self.attn_norm(x)
        split = lambda y: y.view(b, t, self.heads, w // self.heads).transpose(1, 2)
        q = rotate(split(self.wq(h)), cos, sin)
        k = rotate(split(self.wk(h)), cos, sin)
        v = split(self.wv(h))
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.wo(attn.transpose(1, 2).reshape(b, t, w))
        h = self.mlp_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Decoder(nn.Module):
    """Token embedding, `blocks` blocks looped `loops` times, final norm, tied head; optionally
    osrt-v3's per-(block, loop) low-rank adapters and an RMSNorm between loops."""

    def __init__(self, vocab, width, heads, blocks, loops, adapter_rank=0, inter_loop_norm=False, rope_base=10_000.0):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(blocks))
        self.loops = loops
        self.heads = heads
        self.rope_base = rope_base
        self.final_norm = RMSNorm(width)
        self.adapters = nn.ParameterList()
        if adapter_rank:
            for _ in range(blocks * loops):
                self.adapters.append(nn.Parameter(torch.randn(width, adapter_rank) * 0.01))
                self.adapters.append(nn.Parameter(torch.zeros(adapter_rank, width)))
        self.inter_loop_norm = RMSNorm(width) if inter_loop_norm else None
        # looplab's initialisation: N(0, 0.02²) everywhere, residual projections scaled by
        # 1/sqrt(2 x applied blocks) (GPT-2), adapters' B at zero. Speed does not depend on it, but a
        # reference whose loss explodes would not be a fair one.
        residual = 0.02 / math.sqrt(2 * blocks * loops)
        for name, p in self.named_parameters():
            if p.dim() < 2 or name.startswith("adapters"):
                continue
            nn.init.normal_(p, std=residual if name.endswith(("wo.weight", "down.weight")) else 0.02)

    def forward(self, tokens, targets):
        x = self.embed(tokens)
        cos, sin = rope_tables(tokens.shape[1], x.shape[-1] // self.heads, self.rope_base, tokens.device)
        for loop in range(self.loops):
            if loop > 0 and self.inter_loop_norm is not None:
                x = self.inter_loop_norm(x)
            for i, block in enumerate(self.blocks):
                if len(self.adapters):
                    a = self.adapters[2 * (loop * len(self.blocks) + i)]
                    b = self.adapters[2 * (loop * len(self.blocks) + i) + 1]
                    x = x + (x @ a) @ b
                x = block(x, cos, sin)
        logits = self.final_norm(x) @ self.embed.weight.t()
        return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), targets.view(-1))


MODELS = {
    # name: (constructor kwargs, batch), the same shapes and batches as looplab's BenchModels.
    "nano": (dict(width=512, heads=8, blocks=6, loops=1), 16),
    "125m": (dict(width=768, heads=12, blocks=12, loops=1), 8),
    "osrt-v3": (dict(width=1280, heads=20, blocks=2, loops=6, adapter_rank=16, inter_loop_norm=True), 8),
}


def training_flops_per_token(model, name, seq):
    """Counted as looplab's plan counts them: 6 per matrix parameter a token passes through (a
    looped block once per loop; the tied head included, the embedding lookup not) plus attention,
    3 x 4 x seq x width per applied block."""
    kwargs, _ = MODELS[name]
    width, blocks, loops = kwargs["width"], kwargs["blocks"], kwargs["loops"]
    block = 4 * width * width + 3 * width * swiglu_hidden(width)
    adapters = 2 * width * kwargs.get("adapter_rank", 0)
    per_token = blocks * loops * (block + adapters) + NEOX_VOCAB * width
    return 6 * per_token + 3 * blocks * loops * 4 * seq * width


def measure(name, seq, steps, warmup, peak_flops, profile=None, batch=None, compiled=False):
    kwargs, default_batch = MODELS[name]
    batch = batch or default_batch
    torch.manual_seed(1)
    device = torch.device("cuda")
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    free_before, _ = torch.cuda.mem_get_info()
    model = Decoder(NEOX_VOCAB, **kwargs).to(device)
    step_model = torch.compile(model) if compiled else model
    mode = "pytorch-compile-bf16autocast" if compiled else "pytorch-eager-bf16autocast"
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1, fused=True)
    tokens = torch.randint(0, NEOX_VOCAB, (batch, seq + 1), device=device)
    inputs, targets = tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()
    peak_used = 0
    timed = 0.0
    loss = float("nan")
    for step in range(warmup + steps):
        # The first timed step is profiled when asked, as looplab's bench does.
        profiler = None
        if profile and step == warmup:
            profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA])
            profiler.__enter__()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = step_model(inputs, targets)
        out.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        loss = out.item()
        if step >= warmup:
            timed += time.perf_counter() - start
        if profiler is not None:
            profiler.__exit__(None, None, None)
            profiler.export_chrome_trace(f"{profile}/{name}-{mode}.json")
        free, _ = torch.cuda.mem_get_info()
        peak_used = max(peak_used, free_before - free)
    tokens_per_second = batch * seq * steps / timed
    flops = training_flops_per_token(model, name, seq)
    params = sum(p.numel() for p in model.parameters())
    del model, step_model, optimizer
    return dict(model=name, mode=mode, batch=batch, sequence=seq, physicalParams=params,
                trainingFlopsPerToken=flops, steps=steps, stepMillis=1000 * timed / steps, tokensPerSecond=tokens_per_second,
                mfu=tokens_per_second * flops / peak_flops, peakMemoryBytes=peak_used,
                maxMemoryReserved=torch.cuda.max_memory_reserved(), finalLoss=loss)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="nano,125m,osrt-v3")
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--peak-tflops", type=float, default=989.0)
    parser.add_argument("--json")
    parser.add_argument("--batch", type=int, help="sequences per step (default: each model's own)")
    parser.add_argument("--profile", help="folder for a Chrome trace of one timed step per model")
    parser.add_argument("--modes", default="eager", help="eager, compile, or both (eager,compile)")
    parser.add_argument("--compile", action="store_true", help="the same as --modes compile")
    args = parser.parse_args()
    modes = ["compile"] if args.compile else args.modes.split(",")
    for name, mode in [(n, m) for n in args.models.split(",") for m in modes]:
        try:
            result = measure(name, args.seq, args.steps, args.warmup, args.peak_tflops * 1e12, args.profile, args.batch,
                             compiled=(mode == "compile"))
        except torch.OutOfMemoryError as e:
            result = dict(model=name, mode=f"pytorch-{mode}-bf16autocast", error=str(e).splitlines()[0])
            torch.cuda.empty_cache()
        print(f"{name} {result.get('mode')}: {result.get('tokensPerSecond', 0):,.0f} tok/s, MFU {100 * result.get('mfu', 0):.1f}%,"
              f" peak {result.get('peakMemoryBytes', 0) / 2**30:.2f} GiB {result.get('error', '')}", flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
