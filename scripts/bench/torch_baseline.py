#!/usr/bin/python3
"""PyTorch CPU baseline for scripts/bench/engines.ts: the skip-middle model (spec A) in float32, trained with
AdamW (same hyper-parameters as the TypeScript engines) or evaluated under no_grad, on fixed random tokens.

Prints one JSON line: {"engine": "torch", "tokens_per_s": ..., "step_s": [...], "peak_rss_mb": ..., "blas": ...}.
Run with Debian's /usr/bin/python3 (torch 1.13). Set OPENBLAS_CORETYPE=SkylakeX on AVX-512 machines where
OpenBLAS mis-detects the CPU (the benchmark driver does).
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    "S": dict(dim=128, n_layers=4, n_heads=4, seq=128, batch=8, vocab=512),
    "M": dict(dim=256, n_layers=8, n_heads=8, seq=256, batch=8, vocab=50257),
}


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_cis(hd, T, theta=10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, hd, 2)[: hd // 2].float() / hd))
    t = torch.arange(T, dtype=torch.float32)
    return torch.polar(torch.ones(T, hd // 2), torch.outer(t, freqs))


def apply_rope(x, cis):  # x (B, T, H, hd), interleaved pairs
    xc = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))
    return torch.view_as_real(xc * cis[None, :, None, :]).flatten(3).type_as(x)


class Block(nn.Module):
    def __init__(self, D, H, gated_attention):
        super().__init__()
        self.H, self.hd, self.gated_attention = H, D // H, gated_attention
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(D, D, bias=False) for _ in range(4))
        self.w1, self.w3 = nn.Linear(D, 4 * D, bias=False), nn.Linear(D, 4 * D, bias=False)
        self.w2 = nn.Linear(4 * D, D, bias=False)
        self.n1, self.n2, self.n3, self.n4 = (RMSNorm(D) for _ in range(4))

    def attention(self, x, cis, causal, gate):
        B, T, _ = x.shape
        q = apply_rope(self.wq(x).view(B, T, self.H, self.hd), cis).transpose(1, 2)
        k = apply_rope(self.wk(x).view(B, T, self.H, self.hd), cis).transpose(1, 2)
        v = self.wv(x).view(B, T, self.H, self.hd).transpose(1, 2)
        mask = causal
        if gate is not None and self.gated_attention == "key":
            mask = mask + torch.log(gate.clamp(1e-6, 1)).view(B, 1, 1, T)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        p = F.softmax(s.float(), dim=-1).type_as(q)
        return self.wo((p @ v).transpose(1, 2).reshape(B, T, -1))

    def forward(self, x, cis, causal, gate):
        g = 1.0 if gate is None else gate.unsqueeze(-1)
        x = x + g * self.n2(self.attention(self.n1(x), cis, causal, gate))
        a = self.n3(x)
        return x + g * self.n4(self.w2(F.silu(self.w1(a)) * self.w3(a)))


class Model(nn.Module):
    def __init__(self, c, gated, gated_attention="key"):
        super().__init__()
        D, L, V = c["dim"], c["n_layers"], c["vocab"]
        self.gated, self.L = gated, L
        self.tok = nn.Embedding(V, D)
        self.layers = nn.ModuleList(Block(D, c["n_heads"], gated_attention) for _ in range(L))
        self.masks = nn.ModuleList(nn.Linear(D, 1) for _ in range(L // 2))
        self.input_norm, self.output_norm = RMSNorm(D), RMSNorm(D)
        self.output = nn.Linear(D, V, bias=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
        if not gated:  # zero_init_masks: a dense baseline (the mask path is still computed, as the reference)
            for m in self.masks:
                nn.init.zeros_(m.weight)
        T = c["seq"]
        self.cis = rope_cis(D // c["n_heads"], T)
        self.causal = torch.full((T, T), float("-inf")).triu(1)

    def forward(self, tokens):
        h = self.input_norm(self.tok(tokens))
        S, gates = None, []
        for i, layer in enumerate(self.layers):
            if i < self.L // 2:
                s = F.relu(self.masks[i](h)).squeeze(-1)
                S = s if S is None else S + s
                gates.append(1 - S.clamp(0, 1))
                g = gates[-1]
            else:
                g = gates[self.L - 1 - i]
            h = layer(h, self.cis, self.causal, g)
        return self.output(self.output_norm(h))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def blas_in_use():
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()}
        return ", ".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=CONFIGS, default="S")
    ap.add_argument("--mode", choices=["train", "eval"], default="train")
    ap.add_argument("--gated", action="store_true")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = CONFIGS[a.config]
    B, T, V = c["batch"], c["seq"], c["vocab"]
    model = Model(c, a.gated)
    gen = torch.Generator().manual_seed(1)
    data = torch.randint(0, V, (B, T + 1), generator=gen)
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.8, 0.95), eps=1e-10, weight_decay=0.0, foreach=True)

    def step():
        if a.mode == "train":
            loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        else:
            with torch.no_grad():
                F.cross_entropy(model(x).view(-1, V), y.view(-1), reduction="sum")

    for _ in range(a.warmup):
        step()
    times, cpu = [], []
    for _ in range(a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    times.sort()
    cpu.sort()
    median = times[len(times) // 2]
    print(json.dumps({
        "engine": "torch",
        "backend": f"torch-{torch.__version__}-cpu",
        "tokens_per_s": B * T / median,
        "step_s": times,
        "cpu_s_per_step": cpu[len(cpu) // 2],
        "peak_rss_mb": peak_rss_mb(),
        "blas": blas_in_use(),
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
