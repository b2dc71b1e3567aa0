"""UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of
Diffusion Models"), multistep, data prediction, order up to 3, as ComfyUI runs it for `uni_pc`
(B(h) = h, "bh1") and `uni_pc_bh2` (B(h) = e^h - 1).

The solver works in variance-preserving space: x_vp = x / sqrt(1 + sigma^2), alpha = 1 /
sqrt(1 + sigma^2), std = sigma * alpha, lambda = log(alpha / std). Each step is the UniP predictor
(eq. 8 with the rhos of Theorem 3.1 solved from the R(h) system) followed by the UniC corrector,
which re-uses the model output at the predicted point as the next step's history; the final step
has no corrector. A schedule ending at sigma 0 ends at sigma 0.001 instead (lambda must stay
finite), so a trace of noise is left, exactly as in ComfyUI. The first step has order 1, the next
order 2, then 3; the last steps lower it again ("lower order final").
"""

from __future__ import annotations

from typing import Any

from nodes._lazy import lazy
from nodes.sampling._ksamplers import Done, Model, Noise

torch = lazy("torch")

#: Where a schedule ending at 0 ends instead.
FINAL_SIGMA = 0.001


def _vp(sigma: Any) -> tuple[Any, Any, Any]:
    """(alpha, std, lambda) of a VP model at noise level sigma."""
    log_alpha = 0.5 * torch.log(1 / (sigma * sigma + 1))
    log_std = 0.5 * torch.log(1.0 - torch.exp(2.0 * log_alpha))
    return torch.exp(log_alpha), torch.sqrt(1.0 - torch.exp(2.0 * log_alpha)), log_alpha - log_std


class _Solver:
    def __init__(self, model: Model, variant: str) -> None:
        self.model, self.variant = model, variant

    def data(self, x_vp: Any, sigma: Any) -> Any:
        """The model's x0 estimate from a VP-space sample (through its noise estimate)."""
        x = x_vp * (sigma ** 2 + 1.0) ** 0.5
        eps = (x - self.model(x, sigma)) / sigma
        alpha, std, _ = _vp(sigma)
        return (x_vp - std * eps) / alpha

    def update(self, x: Any, models: list[Any], sigmas: list[Any], sigma_t: Any, order: int,
               correct: bool) -> tuple[Any, Any]:
        _, std_0, lam_0 = _vp(sigmas[-1])
        alpha_t, std_t, lam_t = _vp(sigma_t)
        m0 = models[-1]
        h = lam_t - lam_0
        rks, diffs = [], []
        for i in range(1, order):
            rk = (_vp(sigmas[-(i + 1)])[2] - lam_0) / h
            rks.append(rk)
            diffs.append((models[-(i + 1)] - m0) / rk)
        rks.append(torch.ones_like(h))
        rks = torch.stack(rks)
        hh = -h
        h_phi_1 = torch.expm1(hh)
        b_h = hh if self.variant == "bh1" else torch.expm1(hh)
        h_phi_k = h_phi_1 / hh - 1
        factorial = 1
        rows, rhs = [], []
        for i in range(1, order + 1):
            rows.append(rks ** (i - 1))
            rhs.append(h_phi_k * factorial / b_h)
            factorial *= i + 1
            h_phi_k = h_phi_k / hh - 1 / factorial
        r_mat, b = torch.stack(rows), torch.stack(rhs)
        stacked = torch.stack(diffs, dim=1) if diffs else None
        base = (std_t / std_0) * x - alpha_t * h_phi_1 * m0
        if stacked is not None:
            rhos_p = torch.tensor([0.5]) if order == 2 else torch.linalg.solve(r_mat[:-1, :-1], b[:-1])
            x_t = base - alpha_t * b_h * torch.einsum("k,bkchw->bchw", rhos_p.to(x), stacked)
        else:
            x_t = base
        if not correct:
            return x_t, None
        rhos_c = torch.tensor([0.5]) if order == 1 else torch.linalg.solve(r_mat, b)
        rhos_c = rhos_c.to(x)
        model_t = self.data(x_t, sigma_t)
        corr = torch.einsum("k,bkchw->bchw", rhos_c[:-1], stacked) if stacked is not None else 0
        return base - alpha_t * b_h * (corr + rhos_c[-1] * (model_t - m0)), model_t


def unipc(model: Model, x: Any, sigmas: Any, step_done: Done, noise: Noise | None = None,
          variant: str = "bh1", **_: Any) -> Any:
    sigmas = sigmas.clone()
    if sigmas[-1] == 0:
        sigmas[-1] = FINAL_SIGMA
    steps = len(sigmas) - 1
    order = max(1, min(3, steps - 1))
    solver = _Solver(model, variant)
    x = x / torch.sqrt(1.0 + sigmas[0] ** 2.0)
    models = [solver.data(x, sigmas[0])]
    history = [sigmas[0]]
    step_done(0, models[-1])
    for k in range(1, steps + 1):
        step_order = k if k < order else min(order, steps + 1 - k)
        x, model_x = solver.update(x, models, history, sigmas[k], step_order, correct=k < steps)
        if k < order:
            models.append(model_x)
            history.append(sigmas[k])
        else:
            models, history = models[1:] + [model_x], history[1:] + [sigmas[k]]
        if k < steps:
            step_done(k, models[-1])
    return x / _vp(sigmas[-1])[0]
