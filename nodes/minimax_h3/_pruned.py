"""MiniMax H3's pruned transformer files (ComfyUI's `*_pruned_*`: the templates' own): the timestep path
in its curve form, run by diffusers' MiniMaxH3Transformer3DModel.

A full checkpoint modulates every block by `linear(silu(time_embedder(t)))`. A pruned one drops the
time embedder and keeps `adaln_t_table` [grid, r]: the curve c(t) = silu(time_embedder(t)) projected on
its r leading right singular vectors, sampled at `grid` points of t in [0, 1]; every AdaLN projection is
reduced to r inputs (W V_r) and reads c(t) directly, without the SiLU. At run time c(t) is the table
interpolated linearly between its two neighbouring rows (t clamped to [0, 1]), as ComfyUI's model does.

`ready` turns a model built with `time_embed_dim = r` into that form: the table in place of the time
embedder (the sinusoidal projection bypassed: t goes in as it is), the AdaLN modules without their SiLU.
"""

from __future__ import annotations

from typing import Any

from nodes._lazy import lazy

torch = lazy("torch")

TABLE = "adaln_t_table"


def placeholder_time_embedder(config: dict[str, Any]) -> dict[str, Any]:
    """Zero weights in the original names for the time embedder a pruned file lacks, so diffusers' converter
    and loader see a whole model (`ready` replaces the module before any call)."""
    hidden, freq, width = int(config["time_embed_hidden_dim"]), int(config["freq_dim"]), int(config["time_embed_dim"])
    return {"time_embedder.proj_in.weight": torch.zeros(hidden, freq),
            "time_embedder.proj_in.bias": torch.zeros(hidden),
            "time_embedder.proj_out.weight": torch.zeros(width, hidden),
            "time_embedder.proj_out.bias": torch.zeros(width)}


def ready(model: Any, table: Any) -> Any:
    """`model` (built with the table's width as its time_embed_dim) running the curve form of `table`."""
    from diffusers.models.transformers import transformer_minimax_h3 as h3

    class Curve(torch.nn.Module):
        """t [n] -> c(t) [n, r]: the table's rows interpolated linearly."""

        def __init__(self) -> None:
            super().__init__()
            self.table = torch.nn.Parameter(table.float(), requires_grad=False)

        def forward(self, t: Any) -> Any:
            position = t.float().clamp(0.0, 1.0) * (self.table.shape[0] - 1)
            lower = position.floor().long().clamp(max=self.table.shape[0] - 2)
            return torch.lerp(self.table[lower], self.table[lower + 1], (position - lower).unsqueeze(1))

    class Modulation(h3.MiniMaxH3AdaLayerNormModulation):
        def forward(self, temb: Any) -> tuple[Any, ...]:
            temb = self.linear(temb.to(h3.get_parameter_dtype(self.linear))).view(-1, 6 * self.hidden_size)
            return temb.chunk(6, dim=-1)

    class Out(h3.MiniMaxH3AdaLayerNormOut):
        def forward(self, hidden_states: Any, temb: Any, timestep_indices: Any) -> Any:
            shift, scale = self.linear(temb.to(h3.get_parameter_dtype(self.linear))).chunk(2, dim=-1)
            hidden_states = self.norm(hidden_states)
            return hidden_states * (1.0 + scale.index_select(0, timestep_indices)) + shift.index_select(
                0, timestep_indices)

    model.time_proj = torch.nn.Identity()
    model.time_embedder = Curve().to(next(model.parameters()).device)
    for block in model.transformer_blocks:
        block.adaln_proj.__class__ = Modulation
    model.norm_out.__class__ = Out
    return model
