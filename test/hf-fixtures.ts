/**
 * Tiny transformers.js model folders built from code, so the Hugging Face
 * encoders can be tested offline: an ONNX graph written with a ~60-line protobuf
 * encoder, a WordPiece tokenizer.json, and a CLIP-style preprocessor_config.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

// --- protobuf wire format (just what ONNX ModelProto needs) ---
type Field = Buffer;
function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Buffer.from(out);
}
const key = (field: number, wire: number): Buffer => varint((field << 3) | wire);
const int = (field: number, n: number): Field => Buffer.concat([key(field, 0), varint(n)]);
const bytes = (field: number, data: Buffer | string): Field => {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([key(field, 2), varint(b.length), b]);
};
const msg = (field: number, parts: Field[]): Field => bytes(field, Buffer.concat(parts));

const FLOAT = 1,
  INT64 = 7;

function tensor(name: string, dims: number[], type: number, values: number[]): Field {
  const raw = type === FLOAT ? Buffer.from(new Float32Array(values).buffer) : Buffer.from(new BigInt64Array(values.map(BigInt)).buffer);
  return msg(5, [...dims.map((d) => int(1, d)), int(2, type), bytes(8, name), bytes(9, raw)]);
}
function valueInfo(field: number, name: string, type: number, dims: (number | string)[]): Field {
  const dimParts = dims.map((d) => msg(1, [typeof d === 'number' ? int(1, d) : bytes(2, d)]));
  return msg(field, [bytes(1, name), msg(2, [msg(1, [int(1, type), msg(2, dimParts)])])]);
}
function node(op: string, inputs: string[], outputs: string[], attrs: Field[] = []): Field {
  return msg(1, [...inputs.map((i) => bytes(1, i)), ...outputs.map((o) => bytes(2, o)), bytes(3, `${op}_${outputs[0]}`), bytes(4, op), ...attrs]);
}
const intAttr = (name: string, value: number): Field => msg(5, [bytes(1, name), int(3, value), int(20, 2)]);

function model(graphParts: Field[]): Buffer {
  return Buffer.concat([int(1, 8), bytes(2, 'fmrlrec-test'), msg(8, [bytes(1, ''), int(2, 13)]), msg(7, [bytes(2, 'g'), ...graphParts])]);
}

/** Deterministic pseudo-random values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

export const TEXT_VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  'title',
  ':',
  'price',
  'brand',
  'categories',
  'beauty',
  'soap',
  'cream',
  'red',
  'blue',
  'lipstick',
  'shampoo',
  'hair',
  'skin',
  'care',
  '##s',
  '.',
  '$',
  '1',
  '2',
  '5',
];
export const TEXT_DIM = 8;
export const IMAGE_DIM = 6;
export const IMAGE_SIDE = 8;

/**
 * A BERT-like text model: h = (E[ids] + Σ_t E[ids_t]·m_t) · m, so every
 * position (the CLS one included) depends on the whole text and padding is inert.
 */
export function writeTinyTextModel(dir: string, options: { pooling?: 'cls' | 'mean' } = {}): string {
  const V = TEXT_VOCAB.length,
    H = TEXT_DIM;
  const graph = model([
    tensor('E', [V, H], FLOAT, values(V * H, 7)),
    tensor('axis2', [1], INT64, [2]),
    tensor('axis1', [1], INT64, [1]),
    node('Gather', ['E', 'input_ids'], ['emb']),
    node('Cast', ['attention_mask'], ['maskf'], [intAttr('to', FLOAT)]),
    node('Unsqueeze', ['maskf', 'axis2'], ['mask3']),
    node('Mul', ['emb', 'mask3'], ['memb']),
    node('ReduceSum', ['memb', 'axis1'], ['total'], [intAttr('keepdims', 1)]),
    node('Add', ['emb', 'total'], ['mixed']),
    node('Mul', ['mixed', 'mask3'], ['last_hidden_state']),
    valueInfo(11, 'input_ids', INT64, ['batch', 'seq']),
    valueInfo(11, 'attention_mask', INT64, ['batch', 'seq']),
    valueInfo(11, 'token_type_ids', INT64, ['batch', 'seq']),
    valueInfo(12, 'last_hidden_state', FLOAT, ['batch', 'seq', H]),
  ]);
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), graph);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: H }));
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tok = (id: string) => ({ id, ids: [TEXT_VOCAB.indexOf(id)], tokens: [id] });
  fs.writeFileSync(
    path.join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map((t, i) => special(i, t)),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
          { SpecialToken: { id: '[SEP]', type_id: 1 } },
        ],
        special_tokens: { '[CLS]': tok('[CLS]'), '[SEP]': tok('[SEP]') },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(TEXT_VOCAB.map((t, i) => [t, i])),
      },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      do_lower_case: true,
      model_max_length: 512,
    }),
  );
  if (options.pooling) {
    fs.mkdirSync(path.join(dir, '1_Pooling'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, '1_Pooling', 'config.json'),
      JSON.stringify({
        word_embedding_dimension: H,
        pooling_mode_cls_token: options.pooling === 'cls',
        pooling_mode_mean_tokens: options.pooling === 'mean',
      }),
    );
  }
  return dir;
}

/** A CLIP-like image model: pixel_values [B,3,8,8] → flatten → MatMul W [192, 6] → image_embeds. */
export function writeTinyImageModel(dir: string): string {
  const inputs = 3 * IMAGE_SIDE * IMAGE_SIDE;
  const graph = model([
    tensor('W', [inputs, IMAGE_DIM], FLOAT, values(inputs * IMAGE_DIM, 11)),
    tensor('flat', [2], INT64, [-1, inputs]),
    node('Reshape', ['pixel_values', 'flat'], ['x']),
    node('MatMul', ['x', 'W'], ['image_embeds']),
    valueInfo(11, 'pixel_values', FLOAT, ['batch', 3, IMAGE_SIDE, IMAGE_SIDE]),
    valueInfo(12, 'image_embeds', FLOAT, ['batch', IMAGE_DIM]),
  ]);
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'onnx', 'vision_model.onnx'), graph);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'clip' }));
  fs.writeFileSync(
    path.join(dir, 'preprocessor_config.json'),
    JSON.stringify({
      image_processor_type: 'CLIPImageProcessor',
      do_resize: true,
      size: { shortest_edge: IMAGE_SIDE },
      do_center_crop: true,
      crop_size: { height: IMAGE_SIDE, width: IMAGE_SIDE },
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
      do_convert_rgb: true,
      resample: 3,
    }),
  );
  return dir;
}
