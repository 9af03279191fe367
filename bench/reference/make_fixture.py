#!/usr/bin/env python3
"""Write test/fixtures/reference-equivalence.safetensors: the PyTorch mirror's
(fmrlrec_torch.py) loss, gradients and scores for one small configuration and
one batch, which test/reference-fixture.test.ts checks the project against in
`npm test` without Python.

Regenerate (Debian: apt-get install python3-torch; any torch >= 1.13 with numpy):

    python3 bench/reference/make_fixture.py            # writes test/fixtures/reference-equivalence.safetensors
    python3 bench/reference/make_fixture.py --out F    # elsewhere

The configuration: sizes 4, 8, 16 (D = 16), 2 blocks, 30 items, frozen text and
image features 8 + 6 wide, the project's learned item-ID vectors and 5 sparse
attributes, dropout 0; one batch of 5 sequences padded on the left to L = 7 (the
mirror pads to 8 for its scan), with a sequence that fills the window, sequences
that start with the padding item, a one-position sequence, and an evaluation-like
sequence whose first targets are 0 (ignored).

The weights are drawn in float32 (LayerNorm weights and biases, ID and attribute
vectors made larger than their initial values so that every path carries a
signal) and written in the authors' state_dict names (complex tensors as
float32 [..., 2], as torch.view_as_real gives), plus the project-only tensors
under the project's names. The mirror then runs once in float64 / complex128 on
exactly those float32 values, so the stored results carry no float32 rounding
of their own.

File contents (safetensors; metadata: dims, num_blocks, lang_dim, img_dim, torch version):
  <state_dict name>                    float32 weights, the authors' names and shapes
  item_ids.weight, item_attributes.weight  the project's extra parameters (its names)
  input.attributes                     (N+1)×V dense attribute matrix S (row 0 zeros)
  input.tokens, input.labels           B×L int32, left-padded (the reference layout)
  input.lengths                        B int32: the project's packed rows are the last lengths[b] positions
  output.loss                          float64 [1]: mean cross-entropy over target positions and sizes
  output.loss_per_size                 float64 [K]
  output.scores                        float32 [K, B, L, N+1]: scores of every size at every position
  grad.<name>                          float32 gradient of output.loss for every weight above
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fmrlrec_torch import FMRLRec  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DEFAULT_OUT = os.path.join(ROOT, 'test', 'fixtures', 'reference-equivalence.safetensors')

SIZES = [4, 8, 16]
NUM_BLOCKS = 2
NUM_ITEMS = 30
LANG_DIM, IMG_DIM = 8, 6
NUM_ATTRIBUTES = 5
MAX_LEN = 7
SEED = 20240611

# Packed training examples (inputs, targets) as the project builds them (src/data/batches.ts).
SEQUENCES = [
    ([5, 9, 2, 17, 30, 11, 4], [9, 2, 17, 30, 11, 4, 23]),  # truncated: fills the window, no padding item
    ([0, 3, 8, 1], [3, 8, 1, 12]),                        # starts with the padding item
    ([0], [21]),                                          # one position: only the padding item
    ([0, 14, 6, 27, 19, 2, 7], [14, 6, 27, 19, 2, 7, 25]),  # padding item + 6 items, fills the window
    ([13, 22, 1], [0, 0, 16]),                            # evaluation-like: only the last row has a target
]


def write_safetensors(path, tensors, metadata):
    """Write numpy arrays (float64 first, so every tensor is aligned to its element size)."""
    dtypes = {np.dtype(np.float64): 'F64', np.dtype(np.float32): 'F32', np.dtype(np.int32): 'I32'}
    order = sorted(tensors, key=lambda n: (tensors[n].dtype != np.float64, n))
    header, blobs, offset = {'__metadata__': metadata}, [], 0
    for name in order:
        a = np.ascontiguousarray(tensors[name])
        raw = a.astype(a.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': dtypes[a.dtype], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(len(text).to_bytes(8, 'little'))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def authors_names(model):
    """The authors' state_dict name of each reference weight of the mirror (see src/deploy/torch-state-dict.ts)."""
    out = {'embedding.projector.weight': model.projector.weight, 'embedding.projector.bias': model.projector.bias}
    for b, block in enumerate(model.blocks):
        p = f'model.lru_blocks.{b}'
        for ln, name in ((block.input_layernorm, 'input_layernorm'), (block.post_lru_layernorm, 'post_lru_layernorm')):
            for k, norm in enumerate(ln.norms):
                out[f'{p}.{name}.layernorm_{k}.weight'] = norm.weight
                out[f'{p}.{name}.layernorm_{k}.bias'] = norm.bias
        lru = block.lru_layer
        out[f'{p}.lru_layer.params_log'] = lru.params_log
        for proj, name in ((lru.in_proj, 'in_proj'), (lru.out_proj, 'out_proj')):
            for k, lin in enumerate(proj.chunks):
                out[f'{p}.lru_layer.{name}.mrl_linear_{k}.weight'] = lin.weight
                out[f'{p}.lru_layer.{name}.mrl_linear_{k}.bias'] = lin.bias
        ff = block.feed_forward
        for layer, name in ((ff.gate, 'gate'), (ff.w_1, 'w_1'), (ff.w_2, 'w_2')):
            for k, lin in enumerate(layer.chunks):
                out[f'{p}.feed_forward.{name}.mrl_linear_{k}.weight'] = lin.weight
                out[f'{p}.feed_forward.{name}.mrl_linear_{k}.bias'] = lin.bias
    out['item_ids.weight'] = model.item_ids.weight
    out['item_attributes.weight'] = model.item_attributes
    return out


def as_float32(t):
    """float32 numpy array; complex tensors as [..., 2] (real, imaginary)."""
    t = t.detach()
    if t.is_complex():
        t = torch.view_as_real(t)
    return t.to(torch.float32).numpy()


def padded_batch():
    tokens = np.zeros((len(SEQUENCES), MAX_LEN), np.int32)
    labels = np.zeros((len(SEQUENCES), MAX_LEN), np.int32)
    for b, (inputs, targets) in enumerate(SEQUENCES):
        tokens[b, MAX_LEN - len(inputs):] = inputs
        labels[b, MAX_LEN - len(targets):] = targets
    lengths = np.array([len(s[0]) for s in SEQUENCES], np.int32)
    return tokens, labels, lengths


def build():
    torch.manual_seed(SEED)
    n1 = NUM_ITEMS + 1
    features = torch.rand(n1, LANG_DIM + IMG_DIM) * 2 - 1
    features[0] = 0
    attributes = (torch.rand(n1, NUM_ATTRIBUTES) < 0.3).float() * (0.5 + torch.rand(n1, NUM_ATTRIBUTES))
    attributes[0] = 0
    model = FMRLRec(SIZES, features, num_blocks=NUM_BLOCKS, dropout=0.0, item_ids=True, attributes=attributes)
    with torch.no_grad():
        for block in model.blocks:
            for ln in (block.input_layernorm, block.post_lru_layernorm):
                for norm in ln.norms:
                    norm.weight.copy_(1 + 0.3 * torch.randn(norm.weight.shape))
                    norm.bias.copy_(0.2 * torch.randn(norm.bias.shape))
        model.item_ids.weight.copy_(0.3 * torch.randn(model.item_ids.weight.shape))
        model.item_ids.weight[0] = 0
        model.item_attributes.copy_(0.3 * torch.randn(model.item_attributes.shape))
    return model, features, attributes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, features, attributes = build()
    tensors = {name: as_float32(p) for name, p in authors_names(model).items()}
    tensors['embedding.token_lang.weight'] = features[:, :LANG_DIM].numpy().copy()
    tensors['embedding.token_img.weight'] = features[:, LANG_DIM:].numpy().copy()
    tensors['input.attributes'] = attributes.numpy()

    # The reference computation in float64 on the float32 values just written.
    model._apply(lambda t: t.to(torch.complex128) if t.is_complex() else (t.double() if t.is_floating_point() else t))
    model.train()  # dropout p = 0
    tokens, labels, lengths = padded_batch()
    tok = torch.from_numpy(tokens.astype(np.int64))
    lab = torch.from_numpy(labels.astype(np.int64))
    logits = model(tok)  # [K·B, L, N+1]
    k = len(SIZES)
    ce = torch.nn.CrossEntropyLoss(ignore_index=0)
    loss = ce(logits.view(-1, logits.size(-1)), lab.repeat(k, 1).view(-1))
    per_size = [ce(s.reshape(-1, s.size(-1)), lab.view(-1)).item() for s in logits.view(k, *tok.shape, -1)]
    loss.backward()
    for name, p in authors_names(model).items():
        tensors[f'grad.{name}'] = as_float32(p.grad)
    tensors['input.tokens'], tensors['input.labels'], tensors['input.lengths'] = tokens, labels, lengths
    tensors['output.loss'] = np.array([loss.item()], np.float64)
    tensors['output.loss_per_size'] = np.array(per_size, np.float64)
    tensors['output.scores'] = logits.detach().view(k, *tok.shape, -1).to(torch.float32).numpy()

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, tensors, {
        'dims': ','.join(map(str, SIZES)), 'num_blocks': str(NUM_BLOCKS), 'lang_dim': str(LANG_DIM), 'img_dim': str(IMG_DIM),
        'generator': 'bench/reference/make_fixture.py', 'torch': torch.__version__,
    })
    print(f'wrote {args.out} ({os.path.getsize(args.out)} bytes): loss {loss.item():.10f}, per size {per_size}')


if __name__ == '__main__':
    main()
