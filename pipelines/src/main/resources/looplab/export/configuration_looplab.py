"""Configuration of a looped (weight-shared) decoder exported by looplab."""
try:
    from transformers import PretrainedConfig
except ImportError:  # later transformers spell it PreTrainedConfig
    from transformers import PreTrainedConfig as PretrainedConfig


class LooplabConfig(PretrainedConfig):
    model_type = "looplab"

    def __init__(
        self,
        vocab_size=50304,
        hidden_size=512,
        intermediate_size=1344,
        num_attention_heads=8,
        num_key_value_heads=8,
        head_dim=64,
        num_hidden_layers=1,
        blocks=1,
        loops=1,
        prelude=0,
        coda=0,
        inject=False,
        inter_loop_norm=False,
        adapter_rank=0,
        adapter_scale=1.0,
        max_position_embeddings=2048,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        tied_head=True,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.head_dim = head_dim
        # One key/value cache layer per block application (prelude, every loop's blocks, coda).
        self.num_hidden_layers = num_hidden_layers
        self.blocks = blocks
        self.loops = loops
        self.prelude = prelude
        self.coda = coda
        self.inject = inject
        self.inter_loop_norm = inter_loop_norm
        self.adapter_rank = adapter_rank
        self.adapter_scale = adapter_scale
        self.max_position_embeddings = max_position_embeddings
        self.rms_norm_eps = rms_norm_eps
        self.rope_theta = rope_theta
        # The head is tied by the model itself; transformers' own tying stays off.
        self.tied_head = tied_head
        kwargs["tie_word_embeddings"] = False
        super().__init__(**kwargs)
