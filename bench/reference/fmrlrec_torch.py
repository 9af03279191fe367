#!/usr/bin/env python3
"""PyTorch baseline for the fmrlrec benchmarks: the authors' computation, mirrored.

Written for this project from docs/method.md §4-§5 in the style of the authors' PyTorch
code (github yueqirex/fMRLRec, model/lru.py and trainer/), so that
`npm run bench` measures the reference's cost on the same machine in the same
run.  It keeps every choice that sets the reference's cost:

- sequences left-padded to L = 50, then to the next power of two (64) for the
  scan; every padded position goes through every layer;
- the LRU in complex arithmetic (torch.cfloat): complex MRL linears on the input
  cast to complex, the parallel doubling scan over the padded length with the
  carry masked at padding;
- MRL linears as one dense nn.Linear per chunk on the prefix, concatenated;
  MRL LayerNorm as one nn.LayerNorm per chunk;
- the item table recomputed by the projector over all items at every forward,
  and the input embeddings projected separately from the features;
- the scores of every size computed from scratch (x[..., :m] @ E[:, :m]^T) at
  every position and concatenated; CrossEntropyLoss(ignore_index=0) on them;
- AdamW (decay on every weight except names containing 'bias'), gradient-norm
  clip 5.0, the warm-up + cosine schedule of transformers
  (get_cosine_schedule_with_warmup, whose first step has lr 0);
- the validation pass: scores of every size at every padded position, of which
  the last position of the largest size is ranked (argsort, as trainer/utils.py).

The project never needs Python: this file is only run by the benchmark when a
python3 with torch is present, and by make_fixture.py, which writes the
PyTorch-equivalence fixture that `npm test` checks (README.md beside it).  It
has no dependency beyond torch and numpy (it reads safetensors files itself).

Modes (each prints one line "@@RESULT {json}" on stdout):
  peak   --threads N                      torch's sgemm GFLOP/s (2048^3), BLAS in use
  train  --batches F ...                  time training steps
  eval   --batches F ...                  time the validation pass
  check  --weights F --steps S            losses of S steps from the project's weights, dropout off
"""
import argparse
import json
import math
import os
import resource
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

RESULT_MARK = '@@RESULT '
warnings.filterwarnings('ignore', message='Complex modules are a new feature')


# ----------------------------------------------------------------------------
# safetensors (F32, F64, I32), read without the safetensors package

def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + n])
    base = 8 + n
    dtypes = {'F32': np.float32, 'F64': np.float64, 'I32': np.int32}
    tensors = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        b, e = info['data_offsets']
        arr = np.frombuffer(data, dtype=dtypes[info['dtype']], count=(e - b) // np.dtype(dtypes[info['dtype']]).itemsize,
                            offset=base + b)
        tensors[name] = arr.reshape(info['shape']).copy()
    return tensors, header.get('__metadata__', {})


# ----------------------------------------------------------------------------
# The model (docs/method.md §4), laid out as the reference lays it out

class MRLLinear(nn.Module):
    """Square MRL linear: chunk k maps x[..., :m_k] to the |C(k)| outputs of chunk k."""

    def __init__(self, sizes, bias=True):
        super().__init__()
        self.sizes = sizes
        outs = [sizes[0]] + [sizes[i] - sizes[i - 1] for i in range(1, len(sizes))]
        self.chunks = nn.ModuleList([nn.Linear(m, o, bias=bias) for m, o in zip(sizes, outs)])

    def forward(self, x):
        return torch.cat([lin(x[..., :m]) for lin, m in zip(self.chunks, self.sizes)], dim=-1)


class MRLLayerNorm(nn.Module):
    def __init__(self, sizes, eps=1e-5):
        super().__init__()
        self.bounds = [0] + list(sizes)
        self.norms = nn.ModuleList([nn.LayerNorm(self.bounds[k + 1] - self.bounds[k], eps=eps) for k in range(len(sizes))])

    def forward(self, x):
        return torch.cat([ln(x[..., self.bounds[k]:self.bounds[k + 1]]) for k, ln in enumerate(self.norms)], dim=-1)


class LRULayer(nn.Module):
    def __init__(self, sizes, dropout, r_min=0.0, r_max=0.1):
        super().__init__()
        d = sizes[-1]
        u1, u2 = torch.rand(d), torch.rand(d)
        nu_log = torch.log(-0.5 * torch.log(u1 * (r_max ** 2 - r_min ** 2) + r_min ** 2))
        theta_log = torch.log(u2 * math.pi * 2)
        lam = torch.exp(torch.complex(-torch.exp(nu_log), torch.exp(theta_log)))
        gamma_log = torch.log(torch.sqrt(1 - torch.abs(lam) ** 2))
        self.params_log = nn.Parameter(torch.vstack((nu_log, theta_log, gamma_log)))
        self.in_proj = MRLLinear(sizes).to(torch.cfloat)
        self.out_proj = MRLLinear(sizes).to(torch.cfloat)
        self.dropout = nn.Dropout(dropout)

    @staticmethod
    def scan_level(i, h, lam, mask, b, length, d):
        # Doubling step i: blocks of l = 2^i; the second half of every block gets
        # lam^(1..l/2) times the last state of the first half, unless that
        # position is padding (the carry is cut at padding).
        l = 2 ** i
        h = h.reshape(b * length // l, l, d)
        m = mask.reshape(b * length // l, l)
        h1, h2 = h[:, :l // 2], h[:, l // 2:]
        if i > 1:
            lam = torch.cat((lam, lam * lam[-1]), 0)
        h2 = h2 + lam * h1[:, -1:] * m[:, l // 2 - 1:l // 2].unsqueeze(-1)
        return torch.cat([h1, h2], dim=1), lam

    def forward(self, x, mask):
        nu, theta, gamma = torch.exp(self.params_log).split((1, 1, 1))
        lam = torch.exp(torch.complex(-nu, theta))
        h = self.in_proj(x.to(self.in_proj.chunks[0].weight.dtype)) * gamma  # complex64, or complex128 for the fixture
        b, length, d = h.shape
        for i in range(int(math.ceil(math.log2(length)))):
            h, lam = self.scan_level(i + 1, h, lam, mask, b, length, d)
        return self.dropout(self.out_proj(h).real)


class FeedForward(nn.Module):
    def __init__(self, sizes, dropout):
        super().__init__()
        self.gate = MRLLinear(sizes)
        self.w_1 = MRLLinear(sizes)
        self.w_2 = MRLLinear(sizes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        g = self.gate(x)
        a = self.dropout(self.w_1(x))
        return self.dropout(self.w_2(F.silu(g) * a))


class Block(nn.Module):
    def __init__(self, sizes, dropout, attn_dropout):
        super().__init__()
        self.input_layernorm = MRLLayerNorm(sizes)
        self.post_lru_layernorm = MRLLayerNorm(sizes)
        self.lru_layer = LRULayer(sizes, attn_dropout)
        self.feed_forward = FeedForward(sizes, dropout)

    def forward(self, x, mask):
        x = x + self.lru_layer(self.input_layernorm(x), mask)
        return x + self.feed_forward(self.post_lru_layernorm(x))


class FMRLRec(nn.Module):
    """The reference model; item_ids and attributes (an (N+1)×V dense matrix S, row 0 zeros) add the
    project's learned item-ID and attribute vectors (E += ID, E += S·A), which the reference does not have."""

    def __init__(self, sizes, features, num_blocks=1, dropout=0.1, item_ids=False, attributes=None):
        super().__init__()
        self.sizes = sizes
        n1, fdim = features.shape
        # Frozen feature table (the reference keeps text and image tables and concatenates them; one table is the same).
        self.features = nn.Embedding.from_pretrained(features, freeze=True, padding_idx=0)
        self.projector = nn.Linear(fdim, sizes[-1])
        self.item_ids = nn.Embedding(n1, sizes[-1], padding_idx=0) if item_ids else None
        if self.item_ids is not None:  # as the project initialises its item-ID table: N(0, 0.02^2), padding row 0
            with torch.no_grad():
                self.item_ids.weight.normal_(0.0, 0.02)
                self.item_ids.weight[0] = 0
        self.attributes = nn.Embedding.from_pretrained(attributes, freeze=True, padding_idx=0) if attributes is not None else None
        self.item_attributes = nn.Parameter(0.02 * torch.randn(attributes.shape[1], sizes[-1])) if attributes is not None else None
        self.embed_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(sizes, dropout, dropout) for _ in range(num_blocks)])

    def item_table(self):
        e = self.projector(self.features.weight)
        if self.item_ids is not None:  # the padding row has no ID vector (nor its gradient), as in the project
            e = e + F.pad(self.item_ids.weight[1:], (0, 0, 1, 0))
        if self.attributes is not None:
            e = e + self.attributes.weight @ self.item_attributes
        return e

    def forward(self, tokens):
        mask = tokens > 0
        x = self.projector(self.features(tokens))
        if self.item_ids is not None:
            x = x + self.item_ids(tokens)
        if self.attributes is not None:
            x = x + self.attributes(tokens) @ self.item_attributes
        x = self.embed_dropout(x)
        table = self.item_table()
        length = x.size(1)
        padded = 2 ** int(math.ceil(math.log2(length)))
        x = F.pad(x, (0, 0, padded - length, 0, 0, 0))
        mask = F.pad(mask, (padded - length, 0, 0, 0))
        for block in self.blocks:
            x = block(x, mask)
        x = x[:, -length:]
        return torch.cat([torch.matmul(x[..., :m], table[..., :m].permute(1, 0)) for m in self.sizes], dim=0)


def make_optimizer(model, lr, weight_decay, eps):
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {'params': [p for n, p in named if 'bias' not in n], 'weight_decay': weight_decay},
        {'params': [p for n, p in named if 'bias' in n], 'weight_decay': 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, eps=eps)


def cosine_with_warmup(warmup, total):
    # transformers.get_cosine_schedule_with_warmup
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        progress = float(step - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 2.0 * 0.5 * progress)))
    return f


def training_loss(model, ce, tokens, labels):
    logits = model(tokens)
    k = len(model.sizes)
    return ce(logits.view(-1, logits.size(-1)), labels.repeat(k, 1).view(-1))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def random_features(n1, blocks, seed):
    g = torch.Generator().manual_seed(seed)
    parts = []
    for w in blocks:
        x = torch.rand(n1, w, generator=g) * 2 - 1
        parts.append(x / x.norm(dim=1, keepdim=True))
    f = torch.cat(parts, dim=1)
    f[0] = 0
    return f


def report(result):
    sys.stdout.write(RESULT_MARK + json.dumps(result) + '\n')
    sys.stdout.flush()


# ----------------------------------------------------------------------------
# Modes

def mode_peak(args):
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float('inf')
    t_end = time.perf_counter() + 1.5
    i = 0
    while i < 3 or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
        i += 1
    blas = 'unknown'
    try:
        with open('/proc/self/maps') as f:
            maps = f.read()
        for name in ('openblas', 'libmkl', 'blis', 'libblas'):
            if name in maps:
                blas = name
                break
    except OSError:
        pass
    print(json.dumps({'version': torch.__version__, 'peak': 2 * n ** 3 / best / 1e9, 'blas': blas}))


def build(args, n1):
    torch.manual_seed(args.seed)
    sizes = [int(s) for s in args.dims.split(',')]
    features = random_features(n1, [int(w) for w in args.feature_blocks.split(',')], args.seed)
    return FMRLRec(sizes, features, num_blocks=args.num_blocks, dropout=args.dropout, item_ids=args.item_ids)


def mode_train(args):
    tensors, meta = read_safetensors(args.batches)
    tokens = torch.from_numpy(tensors['tokens'].astype(np.int64))
    labels = torch.from_numpy(tensors['labels'].astype(np.int64))
    n1 = int(meta['num_items']) + 1
    model = build(args, n1)
    model.train()
    ce = nn.CrossEntropyLoss(ignore_index=0)
    opt = make_optimizer(model, args.lr, 0.01, 1e-9)
    steps_per_epoch = int(meta['steps_per_epoch'])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine_with_warmup(100, steps_per_epoch * 500))
    times, cpu, losses = [], [], []
    n = min(tokens.size(0), args.warmup + args.steps)
    for s in range(n):
        c0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = training_loss(model, ce, tokens[s], labels[s])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        value = loss.item()
        dt = time.perf_counter() - t0
        if s >= args.warmup:
            times.append(dt)
            cpu.append(time.process_time() - c0)
        losses.append(value)
        print(f'baseline step {s + 1}/{n}: {dt:.2f} s, loss {value:.4f}', file=sys.stderr, flush=True)
    report({'step_seconds': times, 'step_cpu_seconds': cpu, 'losses': losses, 'peak_rss_mb': peak_rss_mb(), 'threads': torch.get_num_threads()})


def mode_eval(args):
    tensors, meta = read_safetensors(args.batches)
    tokens = torch.from_numpy(tensors['tokens'].astype(np.int64))
    labels = torch.from_numpy(tensors['labels'].astype(np.int64))
    n1 = int(meta['num_items']) + 1
    model = build(args, n1)
    model.eval()
    ks = [5, 10, 20, 50]
    times = []
    n = min(tokens.size(0), args.warmup + args.steps)
    with torch.no_grad():
        for s in range(n):
            t0 = time.perf_counter()
            # trainer/lru.py calculate_metrics: last position, largest size, padding masked, argsort ranking
            scores = model(tokens[s])[:, -1, :]
            scores = scores.reshape(len(model.sizes), -1, scores.shape[-1])[-1]
            scores[:, 0] = -1e9
            one_hot = F.one_hot(labels[s], num_classes=scores.size(1)).float()
            rank = (-scores).argsort(dim=1)
            cut = rank
            for k in sorted(ks, reverse=True):
                cut = cut[:, :k]
                hits = one_hot.gather(1, cut)
                _ = hits.sum(1).mean().item()
                weights = 1 / torch.log2(torch.arange(2, 2 + k).float())
                _ = (hits * weights).sum(1).mean().item()
            dt = time.perf_counter() - t0
            if s >= args.warmup:
                times.append(dt)
            print(f'baseline eval batch {s + 1}/{n}: {dt:.2f} s', file=sys.stderr, flush=True)
    report({'batch_seconds': times, 'peak_rss_mb': peak_rss_mb(), 'threads': torch.get_num_threads()})


def load_project_params(model, t, sizes):
    """Copy the project's named parameters (src/model/layers/*.ts) into the mirror."""
    bounds = [0] + list(sizes)

    def put(param, value):
        with torch.no_grad():
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))

    put(model.projector.weight, t['projection.weight'])
    put(model.projector.bias, t['projection.bias'])
    if model.item_ids is not None:
        put(model.item_ids.weight, t['item_ids.weight'])

    def mrl(layer, w, b, w_im=None, b_im=None):
        for k, lin in enumerate(layer.chunks):
            c0, c1 = bounds[k], bounds[k + 1]
            wk = w[c0:c1, :c1]
            bk = b[c0:c1]
            if w_im is not None:
                wk = wk + 1j * w_im[c0:c1, :c1]
                bk = bk + 1j * (b_im[c0:c1] if b_im is not None else 0)
            put(lin.weight, wk.astype(np.complex64) if w_im is not None else wk)
            put(lin.bias, bk.astype(np.complex64) if w_im is not None else bk)

    for i, block in enumerate(model.blocks):
        p = f'blocks.{i}'
        for ln, name in ((block.input_layernorm, 'ln1'), (block.post_lru_layernorm, 'ln2')):
            for k, norm in enumerate(ln.norms):
                put(norm.weight, t[f'{p}.{name}.weight'][bounds[k]:bounds[k + 1]])
                put(norm.bias, t[f'{p}.{name}.bias'][bounds[k]:bounds[k + 1]])
        lru = block.lru_layer
        put(lru.params_log, np.stack([t[f'{p}.lru.nu_log'], t[f'{p}.lru.theta_log'], t[f'{p}.lru.gamma_log']]))
        mrl(lru.in_proj, t[f'{p}.lru.in_re.weight'], t[f'{p}.lru.in_re.bias'], t[f'{p}.lru.in_im.weight'], t[f'{p}.lru.in_im.bias'])
        mrl(lru.out_proj, t[f'{p}.lru.out_re.weight'], t[f'{p}.lru.out_re.bias'], t[f'{p}.lru.out_im.weight'], None)
        ff = block.feed_forward
        for layer, name in ((ff.gate, 'gate'), (ff.w_1, 'w1'), (ff.w_2, 'w2')):
            mrl(layer, t[f'{p}.ffn.{name}.weight'], t[f'{p}.ffn.{name}.bias'])


def project_grad_norms(model, sizes):
    """L2 norm of the gradient of each project parameter, gathered from the mirror's layout."""
    out = {}
    sq = lambda x: float((x.abs() ** 2).sum()) if x is not None else 0.0  # noqa: E731
    out['projection.weight'] = sq(model.projector.weight.grad)
    out['projection.bias'] = sq(model.projector.bias.grad)
    if model.item_ids is not None:
        out['item_ids.weight'] = sq(model.item_ids.weight.grad)
    for i, block in enumerate(model.blocks):
        p = f'blocks.{i}'
        for ln, name in ((block.input_layernorm, 'ln1'), (block.post_lru_layernorm, 'ln2')):
            out[f'{p}.{name}.weight'] = sum(sq(n.weight.grad) for n in ln.norms)
            out[f'{p}.{name}.bias'] = sum(sq(n.bias.grad) for n in ln.norms)
        lru = block.lru_layer
        g = lru.params_log.grad
        out[f'{p}.lru.nu_log'], out[f'{p}.lru.theta_log'], out[f'{p}.lru.gamma_log'] = sq(g[0]), sq(g[1]), sq(g[2])
        for layer, name in ((lru.in_proj, 'in'), (lru.out_proj, 'out')):
            out[f'{p}.lru.{name}_re.weight'] = sum(sq(c.weight.grad.real) for c in layer.chunks)
            out[f'{p}.lru.{name}_im.weight'] = sum(sq(c.weight.grad.imag) for c in layer.chunks)
            out[f'{p}.lru.{name}_re.bias'] = sum(sq(c.bias.grad.real) for c in layer.chunks)
            if name == 'in':
                out[f'{p}.lru.in_im.bias'] = sum(sq(c.bias.grad.imag) for c in layer.chunks)
        ff = block.feed_forward
        for layer, name in ((ff.gate, 'gate'), (ff.w_1, 'w1'), (ff.w_2, 'w2')):
            out[f'{p}.ffn.{name}.weight'] = sum(sq(c.weight.grad) for c in layer.chunks)
            out[f'{p}.ffn.{name}.bias'] = sum(sq(c.bias.grad) for c in layer.chunks)
    return {k: math.sqrt(v) for k, v in out.items()}


def mode_check(args):
    t, meta = read_safetensors(args.weights)
    sizes = [int(s) for s in meta['dims'].split(',')]
    lrs = json.loads(meta['lrs'])
    features = torch.from_numpy(t['features'])
    model = FMRLRec(sizes, features, num_blocks=int(meta['num_blocks']), dropout=0.0,
                    item_ids='item_ids.weight' in t)
    load_project_params(model, t, sizes)
    model.train()  # dropout p = 0
    ce = nn.CrossEntropyLoss(ignore_index=0)
    opt = make_optimizer(model, 1.0, float(meta['weight_decay']), float(meta['adam_eps']))
    tokens = torch.from_numpy(t['tokens'].astype(np.int64))
    labels = torch.from_numpy(t['labels'].astype(np.int64))
    losses, norms = [], []
    grads0 = None
    for s in range(min(args.steps, tokens.size(0), len(lrs))):
        opt.zero_grad()
        loss = training_loss(model, ce, tokens[s], labels[s])
        loss.backward()
        if s == 0:
            grads0 = project_grad_norms(model, sizes)
        norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), float(meta['clip']))))
        for g in opt.param_groups:
            g['lr'] = lrs[s]
        opt.step()
        losses.append(loss.item())
        print(f'baseline check step {s + 1}: loss {losses[-1]:.7f}', file=sys.stderr, flush=True)
    report({'losses': losses, 'grad_norms': norms, 'param_grad_norms_step0': grads0})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('mode', choices=['peak', 'train', 'eval', 'check'])
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batches')
    ap.add_argument('--weights')
    ap.add_argument('--dims', default='8,16,32,64,128,256,512,1024')
    ap.add_argument('--feature-blocks', default='1024,1024')
    ap.add_argument('--num-blocks', type=int, default=1)
    ap.add_argument('--item-ids', action='store_true')
    ap.add_argument('--dropout', type=float, default=0.6)
    ap.add_argument('--lr', type=float, default=1e-4)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--seed', type=int, default=42)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    {'peak': mode_peak, 'train': mode_train, 'eval': mode_eval, 'check': mode_check}[args.mode](args)


if __name__ == '__main__':
    main()
