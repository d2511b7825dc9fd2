#!/usr/bin/python3
"""
Independent float64 PyTorch reference of the skip-middle transformer (spec sections A and H) and generator of
the golden fixtures in tests/fixtures/golden/<case>/.

Written from the spec, not from the upstream code. Everything runs in float64 with torch autograd.
Run with Debian's python (torch 1.13, numpy):

    /usr/bin/python3 tests/reference/torch_reference.py            # regenerate every case
    /usr/bin/python3 tests/reference/torch_reference.py --check    # regenerate in memory, compare to files

Fixture layout per case (all arrays flat, row-major):
  config.json    reference config keys + gated_attention
  weights.json   parameter name -> flat array, reference names, nn.Linear layout (out, in) as core/model/params.ts
  expected.json  inputs/targets (B,T), logits (B,T,V), loss (mean CE), gates (L,B,T), masks (L/2,B,T, pre-clamp),
                 resid_norms (L,B,T) = ||block output||_2 over D, rope_freqs (hd/2), grads (d CE / d param),
                 trajectory (5 AdamW steps on the same batch, CE + controller loss) and trajectory_acc2 (the same
                 with the batch split into two micro-batches of one sequence, gradients averaged).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'golden'))

# ---------------------------------------------------------------------------------------------------------------
# Compact, exact JSON numbers: each tensor is quantised to `sig` significant digits relative to its largest
# magnitude and written as an integer mantissa with a decimal exponent ("-213e-4"), which JSON allows.
# Weights and inputs are re-read from their JSON text before use, so the reference computes with exactly the
# doubles any reader parses.
# ---------------------------------------------------------------------------------------------------------------


class Num:
    """A pre-formatted JSON number."""

    def __init__(self, text):
        self.text = text


def quantise(a, sig):
    """Flat list of Num: a rounded to `sig` significant digits relative to max|a| (exact zeros stay 0)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    m = float(np.max(np.abs(a))) if a.size else 0.0
    if m == 0.0:
        return [Num('0') for _ in a]
    e = math.floor(math.log10(m)) - sig + 1
    k = np.rint(a / 10.0 ** e).astype(np.int64)
    out = []
    for ki in k.tolist():
        if ki == 0:
            out.append(Num('0'))
            continue
        ee = e
        while ki % 10 == 0:
            ki //= 10
            ee += 1
        out.append(Num(f'{ki}e{ee}' if ee != 0 else f'{ki}'))
    return out


def to_json(obj):
    """json.dumps that writes Num verbatim, lists on one line, dict keys in insertion order."""
    if isinstance(obj, Num):
        return obj.text
    if isinstance(obj, dict):
        items = [json.dumps(k) + ': ' + to_json(v) for k, v in obj.items()]
        return '{\n' + ',\n'.join(items) + '\n}'
    if isinstance(obj, (list, tuple)):
        return '[' + ','.join(to_json(v) for v in obj) + ']'
    if isinstance(obj, float):
        return repr(obj)
    return json.dumps(obj)


# ---------------------------------------------------------------------------------------------------------------
# Configuration and parameters (names and order as core/model/params.ts)
# ---------------------------------------------------------------------------------------------------------------


def dims(cfg):
    H = cfg['n_heads']
    Hkv = cfg['n_kv_heads'] or H
    return dict(D=cfg['dim'], L=cfg['n_layers'], H=H, Hkv=Hkv, hd=cfg['dim'] // H, F=4 * cfg['dim'], V=cfg['vocab_size'])


def param_specs(cfg):
    d = dims(cfg)
    D, L, H, Hkv, hd, F, V = d['D'], d['L'], d['H'], d['Hkv'], d['hd'], d['F'], d['V']
    s = [('tok_embeddings.weight', (V, D), 'default')]
    for l in range(L):
        p = f'layers.{l}.'
        s += [
            (p + 'attention.wq.weight', (H * hd, D), 'default'),
            (p + 'attention.wk.weight', (Hkv * hd, D), 'default'),
            (p + 'attention.wv.weight', (Hkv * hd, D), 'default'),
            (p + 'attention.wo.weight', (D, H * hd), 'default'),
            (p + 'feed_forward.w1.weight', (F, D), 'default'),
            (p + 'feed_forward.w2.weight', (D, F), 'default'),
            (p + 'feed_forward.w3.weight', (F, D), 'default'),
            (p + 'pre_attention_norm.weight', (D,), 'norms'),
            (p + 'post_attention_norm.weight', (D,), 'norms'),
            (p + 'pre_feed_forward_norm.weight', (D,), 'norms'),
            (p + 'post_feed_forward_norm.weight', (D,), 'norms'),
        ]
    for j in range(L // 2):
        s += [(f'masks.{j}.linear.weight', (1, D), 'masks'), (f'masks.{j}.linear.bias', (1,), 'masks')]
    s += [('input_norm.weight', (D,), 'norms'), ('output_norm.weight', (D,), 'norms'), ('output.weight', (V, D), 'default')]
    return s


def make_weights(cfg, seed):
    """
    Seeded weights (not the training init: chosen to exercise every path). Linear weights N(0, 0.02²), except
    wq/wk N(0, 0.2²) so attention is far from uniform (RoPE and masking errors show); RMSNorm weights 1 + N(0, 0.1²);
    gated cases: mask weights N(0, 0.3²) and biases U(-0.2, 0.6) so gates are 0, fractional and 1; dense: masks 0.
    """
    rng = np.random.default_rng(seed)
    w = {}
    for name, shape, group in param_specs(cfg):
        if name.startswith('masks.'):
            if cfg['zero_init_masks']:
                a = np.zeros(shape)
            elif name.endswith('bias'):
                a = rng.uniform(-0.2, 0.6, size=shape)
            else:
                a = rng.normal(0.0, 0.3, size=shape)
            sig = 3
        elif group == 'norms':
            a = 1.0 + rng.normal(0.0, 0.1, size=shape)
            sig = 3
        elif name.endswith(('wq.weight', 'wk.weight')):
            a = rng.normal(0.0, 0.2, size=shape)
            sig = 2
        else:
            a = rng.normal(0.0, 0.02, size=shape)
            sig = 2
        w[name] = quantise(a, sig)
    return w


# ---------------------------------------------------------------------------------------------------------------
# The model (spec A.3–A.6, H.1): float64 throughout
# ---------------------------------------------------------------------------------------------------------------


def rope_freqs(cfg):
    """f_k = θ^(−2k/hd), k < hd/2; optional Llama-3.1 scaling (factor 8, low 1, high 4, old context 8192)."""
    hd = dims(cfg)['hd']
    f = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    if cfg['use_scaled_rope']:
        factor, low, high, old = 8.0, 1.0, 4.0, 8192.0
        low_wavelen, high_wavelen = old / low, old / high
        out = []
        for fk in f.tolist():
            wavelen = 2 * math.pi / fk
            if wavelen < high_wavelen:
                out.append(fk)
            elif wavelen > low_wavelen:
                out.append(fk / factor)
            else:
                smooth = (old / wavelen - low) / (high - low)
                out.append((1 - smooth) * fk / factor + smooth * fk)
        f = torch.tensor(out)
    return f


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def apply_rope(x, cos, sin):
    """x (B,T,nh,hd): dims (2k, 2k+1) form x_2k + i·x_2k+1, multiplied by e^{i t f_k}. cos/sin (T, hd/2)."""
    xr, xi = x[..., 0::2], x[..., 1::2]  # (B,T,nh,hd/2)
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    out_r = xr * c - xi * s
    out_i = xr * s + xi * c
    return torch.stack([out_r, out_i], dim=-1).flatten(-2)  # (B,T,nh,hd), re-interleaved


def attention(x, P, l, cfg, cos, sin, g):
    d = dims(cfg)
    B, T, D = x.shape
    H, Hkv, hd = d['H'], d['Hkv'], d['hd']
    p = f'layers.{l}.attention.'
    q = (x @ P[p + 'wq.weight'].T).view(B, T, H, hd)
    k = (x @ P[p + 'wk.weight'].T).view(B, T, Hkv, hd)
    v = (x @ P[p + 'wv.weight'].T).view(B, T, Hkv, hd)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    n_rep = H // Hkv
    # repeat_kv: query head h uses kv head h // n_rep
    k = k[:, :, :, None, :].expand(B, T, Hkv, n_rep, hd).reshape(B, T, H, hd)
    v = v[:, :, :, None, :].expand(B, T, Hkv, n_rep, hd).reshape(B, T, H, hd)
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B,H,T,hd)
    scores = q @ k.transpose(2, 3) / math.sqrt(hd)  # (B,H,T,T)
    causal = torch.full((T, T), float('-inf')).triu(1)
    scores = scores + causal
    mode = cfg['gated_attention']
    if mode == 'key':
        scores = scores + torch.log(torch.clamp(g, 1e-6, 1.0))[:, None, None, :]  # g (B,T) on key index j
    elif mode == 'query':
        scores = scores + torch.log(torch.clamp(g, 1e-6, 1.0))[:, None, :, None]  # on query index i: a no-op
    probs = torch.softmax(scores, dim=-1)
    o = (probs @ v).transpose(1, 2).reshape(B, T, H * hd)  # (B,T,H·hd)
    return o @ P[p + 'wo.weight'].T


def feed_forward(x, P, l):
    p = f'layers.{l}.feed_forward.'
    a = x @ P[p + 'w1.weight'].T
    b = x @ P[p + 'w3.weight'].T
    return (torch.nn.functional.silu(a) * b) @ P[p + 'w2.weight'].T


def block(x, P, l, cfg, cos, sin, g):
    eps = cfg['norm_eps']
    p = f'layers.{l}.'
    gg = g[..., None]  # (B,T,1)
    a = attention(rms_norm(x, P[p + 'pre_attention_norm.weight'], eps), P, l, cfg, cos, sin, g)
    x = x + gg * rms_norm(a, P[p + 'post_attention_norm.weight'], eps)
    f = feed_forward(rms_norm(x, P[p + 'pre_feed_forward_norm.weight'], eps), P, l)
    return x + gg * rms_norm(f, P[p + 'post_feed_forward_norm.weight'], eps)


def forward(P, cfg, inputs):
    """inputs (B,T) int64 -> dict(logits (B,T,V), gates (L,B,T), masks (L/2,B,T), hidden (L,B,T,D))."""
    d = dims(cfg)
    L = d['L']
    B, T = inputs.shape
    eps = cfg['norm_eps']
    angles = torch.arange(T, dtype=torch.float64)[:, None] * rope_freqs(cfg)[None, :]  # (T, hd/2)
    cos, sin = torch.cos(angles), torch.sin(angles)
    h = rms_norm(P['tok_embeddings.weight'][inputs], P['input_norm.weight'], eps)  # (B,T,D)
    masks, gates, hidden = [], [], []
    S = torch.zeros(B, T)
    for l in range(L):
        if l < L // 2:
            s = torch.relu(h @ P[f'masks.{l}.linear.weight'][0] + P[f'masks.{l}.linear.bias'][0])  # (B,T)
            S = S + s
            masks.append(S)
            g = 1 - torch.clamp(S, 0.0, 1.0)
        else:
            g = 1 - torch.clamp(masks[L - 1 - l], 0.0, 1.0)
        gates.append(g)
        h = block(h, P, l, cfg, cos, sin, g)
        hidden.append(h)
    logits = rms_norm(h, P['output_norm.weight'], eps) @ P['output.weight'].T
    return dict(logits=logits, gates=torch.stack(gates), masks=torch.stack(masks) if masks else torch.zeros(0, B, T),
                hidden=torch.stack(hidden))


def cross_entropy(logits, targets):
    V = logits.shape[-1]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))


def controller_loss(gates, ctrl):
    """linear controller loss: mean_l(cm_l · m̂_l) + mean_l(cv_l · v̂_l), m̂/v̂ over (B,T), v̂ unbiased."""
    if ctrl is None:
        return torch.zeros(())
    G = gates.reshape(gates.shape[0], -1)  # (L, B·T)
    m = G.mean(1)
    v = G.var(1, unbiased=True)
    cm = torch.tensor(ctrl['meanCoefs'])
    cv = torch.tensor(ctrl['varCoefs'])
    return (cm * m).mean() + (cv * v).mean()


# ---------------------------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------------------------

BASE = dict(dim=16, n_layers=4, n_heads=4, n_kv_heads=2, vocab_size=32, multiple_of=256, ffn_dim_multiplier=4,
            norm_eps=1e-5, rope_theta=10000.0, use_scaled_rope=False, max_seq_len=8, initializer_range=0.02)

CASES = {
    'dense_gqa': dict(cfg=dict(BASE, zero_init_masks=True, gated_attention='query'), wseed=1, dseed=11),
    'gated_query': dict(cfg=dict(BASE, zero_init_masks=False, gated_attention='query'), wseed=2, dseed=12),
    'gated_key': dict(cfg=dict(BASE, zero_init_masks=False, gated_attention='key'), wseed=2, dseed=12),
    'gated_none': dict(cfg=dict(BASE, zero_init_masks=False, gated_attention='none'), wseed=2, dseed=12),
    # head_dim 8 so the scaled band (wavelengths 2048..8192) and the /8 band are both hit at θ = 500000
    'scaled_rope_key': dict(cfg=dict(BASE, n_heads=2, n_kv_heads=1, rope_theta=500000.0, use_scaled_rope=True,
                                     zero_init_masks=False, gated_attention='key'), wseed=2, dseed=13),
}
BATCH, SEQ = 2, 8
OPT = dict(lr=1e-3, betas=(0.8, 0.95), eps=1e-10, weight_decay=0.0)
# trajectory_wd: decoupled weight decay on all three parameter groups (spec B.1); large enough that each step shrinks
# every parameter by lr·wd = 0.1 %, so an engine that skips a group (norms, masks) misses by far more than tolerance
WEIGHT_DECAY_TEST = 1.0
STEPS = 5


def controller_for(cfg):
    if cfg['zero_init_masks']:
        return None
    L = cfg['n_layers']
    return dict(kind='linear', meanCoefs=[0.05 + 0.01 * l for l in range(L)], varCoefs=[-0.05 + 0.005 * l for l in range(L)])


def params_from(wjson, cfg):
    P = {}
    for name, shape, _ in param_specs(cfg):
        P[name] = torch.tensor(np.array(wjson[name], dtype=np.float64).reshape(shape), requires_grad=True)
    return P


def trajectory(wjson, cfg, inputs, targets, ctrl, n_micro, weight_decay=OPT['weight_decay']):
    """STEPS AdamW steps on one batch split into n_micro equal micro-batches; returns per-step means."""
    P = params_from(wjson, cfg)
    groups = {'default': [], 'norms': [], 'masks': []}
    for name, _, group in param_specs(cfg):
        groups[group].append(P[name])
    opt = torch.optim.AdamW([{'params': groups[k]} for k in ('default', 'norms', 'masks')], lr=OPT['lr'],
                            betas=OPT['betas'], eps=OPT['eps'], weight_decay=weight_decay)
    losses, ces, ctrls, margins = [], [], [], []
    mb = inputs.shape[0] // n_micro
    for _ in range(STEPS):
        opt.zero_grad()
        tl = tc = tk = 0.0
        for i in range(n_micro):
            x, y = inputs[i * mb:(i + 1) * mb], targets[i * mb:(i + 1) * mb]
            out = forward(P, cfg, x)
            ce = cross_entropy(out['logits'], y)
            k = controller_loss(out['gates'], ctrl)
            ((ce + k) / n_micro).backward()
            tl += float(ce + k) / n_micro
            tc += float(ce) / n_micro
            tk += float(k) / n_micro
            margins.append(gate_margin(P, cfg, x))
        opt.step()
        losses.append(tl)
        ces.append(tc)
        ctrls.append(tk)
    with torch.no_grad():
        out = forward(P, cfg, inputs)
        after = float(cross_entropy(out['logits'], targets))
    final = {n: P[n].detach().numpy().ravel() for n in P if n.startswith('masks.') or n in ('input_norm.weight', 'output_norm.weight')}
    final['layers.0.attention.wq.weight'] = P['layers.0.attention.wq.weight'].detach().numpy().ravel()
    return dict(losses=losses, ce=ces, controller=ctrls, ce_after=after, final_params=final), min(margins)


def gate_margin(P, cfg, inputs):
    """Smallest distance of a mask pre-activation from 0 or of an accumulated S from 1 (float32 safety)."""
    if cfg['zero_init_masks']:
        return float('inf')
    with torch.no_grad():
        L = cfg['n_layers']
        eps = cfg['norm_eps']
        angles = torch.arange(inputs.shape[1], dtype=torch.float64)[:, None] * rope_freqs(cfg)[None, :]
        cos, sin = torch.cos(angles), torch.sin(angles)
        h = rms_norm(P['tok_embeddings.weight'][inputs], P['input_norm.weight'], eps)
        S = torch.zeros(inputs.shape)
        m = float('inf')
        for l in range(L // 2):
            pre = h @ P[f'masks.{l}.linear.weight'][0] + P[f'masks.{l}.linear.bias'][0]
            m = min(m, float(pre.abs().min()))
            S = S + torch.relu(pre)
            m = min(m, float((S - 1).abs().min()))
            h = block(h, P, l, cfg, cos, sin, 1 - torch.clamp(S, 0.0, 1.0))
        return m


def build_case(name, spec):
    cfg = spec['cfg']
    wjson = json.loads(to_json(make_weights(cfg, spec['wseed'])))
    rng = np.random.default_rng(spec['dseed'])
    V = cfg['vocab_size']
    data = rng.integers(0, V, size=(BATCH, SEQ + 1))
    inputs = torch.tensor(data[:, :-1])
    targets = torch.tensor(data[:, 1:])

    P = params_from(wjson, cfg)
    out = forward(P, cfg, inputs)
    loss = cross_entropy(out['logits'], targets)
    loss.backward()
    grads = {n: P[n].grad.numpy() for n in P}
    d = dims(cfg)

    ctrl = controller_for(cfg)
    traj, margin1 = trajectory(wjson, cfg, inputs, targets, ctrl, 1)
    traj2, margin2 = trajectory(wjson, cfg, inputs, targets, ctrl, 2)
    traj_wd, margin3 = trajectory(wjson, cfg, inputs, targets, ctrl, 1, weight_decay=WEIGHT_DECAY_TEST)
    g = out['gates'].detach().numpy()
    stats = dict(zero=int((g == 0).sum()), one=int((g == 1).sum()), frac=int(((g > 0) & (g < 1)).sum()),
                 margin=min(margin1, margin2, margin3) if not cfg['zero_init_masks'] else None)

    common = dict(optimizer=dict(lr=OPT['lr'], beta1=OPT['betas'][0], beta2=OPT['betas'][1], eps=OPT['eps'],
                                 weight_decay=OPT['weight_decay']),
                  controller=ctrl if ctrl else dict(kind='none'), steps=STEPS)

    def traj_json(t, n_micro, wd=None):
        c = common if wd is None else dict(common, optimizer=dict(common['optimizer'], weight_decay=wd))
        return dict(c, micro_batches=n_micro, losses=quantise_list(t['losses']), ce=quantise_list(t['ce']),
                    controller_loss=quantise_list(t['controller']), ce_after=Num(repr(t['ce_after'])),
                    final_params={k: quantise(v, 8) for k, v in t['final_params'].items()})

    expected = dict(
        case=name,
        batch=BATCH,
        seq=SEQ,
        inputs=[int(v) for v in inputs.ravel()],
        targets=[int(v) for v in targets.ravel()],
        loss=Num(repr(float(loss))),
        logits=quantise(out['logits'].detach().numpy(), 8),
        gates=quantise(g, 10),
        masks=quantise(out['masks'].detach().numpy(), 10),
        resid_norms=quantise(out['hidden'].detach().norm(dim=-1).numpy(), 8),
        rope_freqs=[Num(repr(float(f))) for f in rope_freqs(cfg)],
        gate_stats=stats,
        grads={n: quantise(grads[n], 5) for n, _, _ in param_specs(cfg)},
        trajectory=traj_json(traj, 1),
        trajectory_acc2=traj_json(traj2, 2),
        trajectory_wd=traj_json(traj_wd, 1, WEIGHT_DECAY_TEST),
    )
    return cfg, wjson, expected, d


def quantise_list(xs):
    return [Num(repr(float(x))) for x in xs]


def self_test():
    """Cross-checks of the reference against independent formulations (run before writing fixtures)."""
    rng = np.random.default_rng(0)
    # RoPE: interleaved pairs as complex numbers (the upstream formulation, torch.view_as_complex)
    x = torch.tensor(rng.normal(size=(2, 5, 3, 8)))
    f = rope_freqs(dict(dim=24, n_layers=2, n_heads=3, n_kv_heads=None, vocab_size=1, rope_theta=10000.0, use_scaled_rope=False))
    ang = torch.arange(5.0)[:, None] * f[None, :]
    xc = torch.view_as_complex(x.reshape(2, 5, 3, 4, 2).contiguous())
    ref = torch.view_as_real(xc * torch.polar(torch.ones_like(ang), ang)[None, :, None, :]).flatten(-2)
    assert torch.allclose(apply_rope(x, torch.cos(ang), torch.sin(ang)), ref, atol=1e-14)
    # GQA with n_kv_heads = H/2 equals MHA whose k/v weights repeat each kv head's rows n_rep times
    cfg = dict(CASES['gated_key']['cfg'])
    P = params_from(json.loads(to_json(make_weights(cfg, 5))), cfg)
    inputs = torch.tensor(rng.integers(0, cfg['vocab_size'], size=(2, 8)))
    a = forward(P, cfg, inputs)['logits']
    mha = dict(cfg, n_kv_heads=cfg['n_heads'])
    P2 = dict(P)
    hd, n_rep = cfg['dim'] // cfg['n_heads'], cfg['n_heads'] // cfg['n_kv_heads']
    for l in range(cfg['n_layers']):
        for w in ('wk', 'wv'):
            W = P[f'layers.{l}.attention.{w}.weight'].view(cfg['n_kv_heads'], hd, cfg['dim'])
            P2[f'layers.{l}.attention.{w}.weight'] = W.repeat_interleave(n_rep, 0).reshape(-1, cfg['dim'])
    assert torch.allclose(a, forward(P2, mha, inputs)['logits'], atol=1e-12)
    # 'query' gating is a softmax no-op; 'key' is not
    q = forward(P, dict(cfg, gated_attention='query'), inputs)['logits']
    n = forward(P, dict(cfg, gated_attention='none'), inputs)['logits']
    assert torch.allclose(q, n, atol=1e-12) and not torch.allclose(a, n, atol=1e-6)
    # a token with gate 0 leaves a block unchanged; with 'key' gating its input does not reach other tokens
    out = forward(P, cfg, inputs)
    zero = (out['gates'][1] == 0).nonzero()
    assert len(zero) > 0
    b, t = zero[0].tolist()
    assert torch.equal(out['hidden'][1, b, t], out['hidden'][0, b, t])


def same_json(a, b, rel=1e-12):
    """Equal JSON up to the last bits of unquantised doubles (BLAS and CPU change those; quantised arrays agree)."""
    def eq(x, y):
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(eq(x[k], y[k]) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(eq(u, v) for u, v in zip(x, y))
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool) and not isinstance(y, bool):
            return x == y or abs(x - y) <= rel * max(1.0, abs(x), abs(y))
        return x == y
    return eq(json.loads(a), json.loads(b))


def to_plain_json(obj):
    return json.dumps(obj, indent=0, separators=(',', ': '))


# (T, warmup_fraction, start_factor): W = int(warmup_fraction * T) from 0 (fewer than one warm-up step) up
LR_CASES = [(1, 0.1, 0.1), (2, 0.1, 0.1), (5, 0.1, 0.1), (9, 0.1, 0.1), (10, 0.1, 0.1), (15, 0.1, 0.1), (19, 0.1, 0.1),
            (20, 0.1, 0.1), (30, 0.1, 0.1), (60, 0.1, 0.1), (10, 0.0, 0.1), (10, 0.0, 1.0), (12, 0.05, 0.5),
            (7, 0.2, 0.25), (4, 0.5, 0.1), (25, 0.3, 1.0), (40, 0.9, 0.1)]


def lr_schedule_cases():
    """torch's SequentialLR(LinearLR, CosineAnnealingLR, milestones=[W], last_epoch=0), base lr 1 (spec B.2)."""
    import warnings
    out = []
    for T, wf, sf in LR_CASES:
        W = int(wf * T)
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=1.0)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            sch = torch.optim.lr_scheduler.SequentialLR(
                opt, [torch.optim.lr_scheduler.LinearLR(opt, start_factor=sf, total_iters=W),
                      torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T - W)], milestones=[W], last_epoch=0)
            lrs = []
            for _ in range(T):
                lrs.append(opt.param_groups[0]['lr'])
                opt.step()
                sch.step()
        out.append(dict(total_steps=T, warmup_fraction=wf, start_factor=sf, warmup_steps=W, lr=lrs))
    return out


def main():
    self_test()
    ap = argparse.ArgumentParser()
    ap.add_argument('--check', action='store_true', help='compare regenerated fixtures with the files on disk')
    args = ap.parse_args()
    bad = 0
    for name, spec in CASES.items():
        cfg, wjson, expected, d = build_case(name, spec)
        st = expected['gate_stats']
        if not cfg['zero_init_masks']:
            assert st['zero'] > 0 and st['one'] > 0 and st['frac'] > 0, f'{name}: gates do not cover 0/fractional/1: {st}'
            assert st['margin'] > 1e-4, f'{name}: a gate boundary is within {st["margin"]} (float32 unsafe)'
        files = {
            'config.json': to_json(cfg) + '\n',
            # the compact text the reference parsed its weights from
            'weights.json': to_json(make_weights(cfg, spec['wseed'])) + '\n',
            'expected.json': to_json(expected) + '\n',
        }
        folder = os.path.join(ROOT, name)
        for fn, text in files.items():
            path = os.path.join(folder, fn)
            if args.check:
                same = os.path.exists(path) and same_json(open(path).read(), text)
                if not same:
                    bad += 1
                    print(f'DIFFERS: {path}')
            else:
                os.makedirs(folder, exist_ok=True)
                with open(path, 'w') as f:
                    f.write(text)
        print(f'{name}: loss {float(expected["loss"].text):.6f} gates zero/one/frac {st["zero"]}/{st["one"]}/{st["frac"]} '
              f'margin {st["margin"] or 0:.2e} traj {[round(float(x.text), 6) for x in expected["trajectory"]["losses"]]}')
    # the LR schedule (spec B.2) as torch computes it, including runs with fewer than two warm-up steps
    sched_path = os.path.join(ROOT, 'lr_schedule.json')
    sched_text = to_plain_json(lr_schedule_cases()) + '\n'
    if args.check:
        if not (os.path.exists(sched_path) and same_json(open(sched_path).read(), sched_text)):
            bad += 1
            print(f'DIFFERS: {sched_path}')
    else:
        with open(sched_path, 'w') as f:
            f.write(sched_text)
    if args.check and bad:
        sys.exit(1)


if __name__ == '__main__':
    main()
