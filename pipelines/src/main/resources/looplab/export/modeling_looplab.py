"""A looped (weight-shared) decoder exported by looplab, in plain PyTorch.

Parameter names and layouts are looplab's own: matrices are stored [in, out] and applied as
x @ w. The computation follows looplab's RecursiveDecoder for the parts the export allows: RoPE
attention with grouped keys/values, SwiGLU, prelude and coda blocks, a core of `blocks` blocks run
`loops` times with per-(loop, block) low-rank adapters, injection of the core's input and an
RMSNorm between loops. Each block application keeps its own key/value cache layer.
"""
import torch
import torch.nn.functional as F
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from .configuration_looplab import LooplabConfig


def rms_norm(x, gain, eps):
    dtype = x.dtype
    x = x.float()
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return (x * gain.float()).to(dtype)


def rotate(x, positions, base):
    """RoPE on [B, H, T, D] at positions [B, T]: the two halves of each head, as looplab and Llama."""
    size = x.shape[-1]
    half = size // 2
    frequency = 1.0 / torch.pow(torch.tensor(base, dtype=torch.float64, device=x.device),
                                torch.arange(half, dtype=torch.float64, device=x.device) * (2.0 / size))
    angles = positions.to(torch.float64).unsqueeze(-1) * frequency
    both = torch.cat([angles, angles], -1).unsqueeze(1)
    cos, sin = torch.cos(both).to(x.dtype), torch.sin(both).to(x.dtype)
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        width, kv = config.hidden_size, config.num_key_value_heads * config.head_dim
        self.heads, self.kv_heads, self.head_dim = config.num_attention_heads, config.num_key_value_heads, config.head_dim
        self.wq = nn.Parameter(torch.empty(width, width))
        self.wk = nn.Parameter(torch.empty(width, kv))
        self.wv = nn.Parameter(torch.empty(width, kv))
        self.wo = nn.Parameter(torch.empty(width, width))

    def forward(self, x, positions, base, cache, layer, mask):
        batch, time, width = x.shape
        q = (x @ self.wq).view(batch, time, self.heads, self.head_dim).transpose(1, 2)
        k = (x @ self.wk).view(batch, time, self.kv_heads, self.head_dim).transpose(1, 2)
        v = (x @ self.wv).view(batch, time, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = rotate(q, positions, base), rotate(k, positions, base)
        if cache is not None:
            k, v = cache.update(k, v, layer)
        group = self.heads // self.kv_heads
        if group > 1:  # key/value head j serves query heads j*group .. (j+1)*group - 1
            k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return out.transpose(1, 2).reshape(batch, time, width) @ self.wo


class SwiGlu(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.gate = nn.Parameter(torch.empty(config.hidden_size, config.intermediate_size))
        self.up = nn.Parameter(torch.empty(config.hidden_size, config.intermediate_size))
        self.down = nn.Parameter(torch.empty(config.intermediate_size, config.hidden_size))

    def forward(self, x):
        return (F.silu(x @ self.gate) * (x @ self.up)) @ self.down


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.eps = config.rms_norm_eps
        self.attn_norm = nn.Parameter(torch.ones(config.hidden_size))
        self.attn = Attention(config)
        self.mlp_norm = nn.Parameter(torch.ones(config.hidden_size))
        self.mlp = SwiGlu(config)

    def forward(self, x, positions, base, cache, layer, mask):
        x = x + self.attn(rms_norm(x, self.attn_norm, self.eps), positions, base, cache, layer, mask)
        return x + self.mlp(rms_norm(x, self.mlp_norm, self.eps))


class Adapter(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.scale = config.adapter_scale
        self.a = nn.Parameter(torch.empty(config.hidden_size, config.adapter_rank))
        self.b = nn.Parameter(torch.zeros(config.adapter_rank, config.hidden_size))

    def forward(self, x):
        return x + self.scale * ((x @ self.a) @ self.b)


class _Lookup(nn.Module):
    """The token embedding as a module, for transformers' helpers; the table itself is `embed`."""

    def __init__(self, owner):
        super().__init__()
        object.__setattr__(self, "owner", owner)

    def forward(self, ids):
        return F.embedding(ids, self.owner.embed)


class LooplabForCausalLM(PreTrainedModel, GenerationMixin):
    config_class = LooplabConfig
    base_model_prefix = "looplab"
    main_input_name = "input_ids"
    _supports_sdpa = True
    _supports_cache_class = True
    _no_split_modules = ["Block"]

    def __init__(self, config):
        super().__init__(config)
        width = config.hidden_size
        self.embed = nn.Parameter(torch.empty(config.vocab_size, width))
        self.prelude = nn.ModuleList([Block(config) for _ in range(config.prelude)])
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.blocks)])
        self.coda = nn.ModuleList([Block(config) for _ in range(config.coda)])
        if config.adapter_rank > 0:
            self.adapters = nn.ModuleDict({
                f"loop{loop}": nn.ModuleDict({f"block{b}": Adapter(config) for b in range(config.blocks)})
                for loop in range(config.loops)
            })
        else:
            self.adapters = None
        self.inter_loop_norm = nn.Parameter(torch.ones(width)) if config.inter_loop_norm else None
        self.final_norm = nn.Parameter(torch.ones(width))
        self.head = None if config.tied_head else nn.Parameter(torch.empty(width, config.vocab_size))
        object.__setattr__(self, "_lookup", _Lookup(self))
        self.post_init()

    def _init_weights(self, module):
        pass  # every weight comes from model.safetensors

    def get_input_embeddings(self):
        return self._lookup

    def get_output_embeddings(self):
        return None

    def forward(self, input_ids=None, attention_mask=None, past_key_values=None, use_cache=None,
                cache_position=None, position_ids=None, labels=None, return_dict=True, **kwargs):
        config = self.config
        batch, time = input_ids.shape
        use_cache = getattr(config, "use_cache", True) if use_cache is None else use_cache
        if use_cache and past_key_values is None:
            from transformers import DynamicCache
            try:
                past_key_values = DynamicCache(config=config)
            except TypeError:
                past_key_values = DynamicCache()
        cache = past_key_values if use_cache else None
        past = cache.get_seq_length() if cache is not None else 0
        if position_ids is None:
            position_ids = torch.arange(past, past + time, device=input_ids.device).unsqueeze(0).expand(batch, time)
        # Causal over the cached and new positions; padding (attention_mask 0) is masked too.
        keys = past + time
        allowed = torch.arange(keys, device=input_ids.device).unsqueeze(0) <= torch.arange(past, keys, device=input_ids.device).unsqueeze(1)
        allowed = allowed.unsqueeze(0).unsqueeze(0)
        if attention_mask is not None and attention_mask.shape[-1] == keys:
            allowed = allowed & attention_mask.bool()[:, None, None, :]
        dtype = self.embed.dtype
        mask = torch.zeros(allowed.shape, dtype=dtype, device=input_ids.device).masked_fill(~allowed, torch.finfo(dtype).min)
        base = config.rope_theta

        x = F.embedding(input_ids, self.embed)
        layer = 0
        for block in self.prelude:
            x = block(x, position_ids, base, cache, layer, mask)
            layer += 1
        entering = x
        for loop in range(config.loops):
            h = x + entering if (config.inject and loop > 0) else x
            for b, block in enumerate(self.blocks):
                if self.adapters is not None:
                    h = self.adapters[f"loop{loop}"][f"block{b}"](h)
                h = block(h, position_ids, base, cache, layer, mask)
                layer += 1
            x = rms_norm(h, self.inter_loop_norm, config.rms_norm_eps) if (self.inter_loop_norm is not None and loop < config.loops - 1) else h
        for block in self.coda:
            x = block(x, position_ids, base, cache, layer, mask)
            layer += 1
        head = self.embed.t() if self.head is None else self.head
        logits = rms_norm(x, self.final_norm, config.rms_norm_eps) @ head
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100)
        return CausalLMOutputWithPast(loss=loss, logits=logits, past_key_values=cache)
