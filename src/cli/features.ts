/** `fmrlrec features`: compute (or check) the cached item text and image features of a dataset. */
import { readP5Dataset } from '../data/p5';
import { loadItemFeatures } from '../features/cache';
import { textEncoderSource } from '../features/encoders';
import { HF_PREFIX, huggingFaceImageSource, type HuggingFaceOptions } from '../features/huggingface';
import { loadItemImageFeatures } from '../features/image-cache';
import { UserError } from '../util/errors';
import { numberFlag, OptionSpec, parseCommandArgs, requireString } from './args';
import { CliContext } from './context';

/** `fmrlrec features --help`. */
export const FEATURES_HELP = `Usage: fmrlrec features --data <dir> [--text-model <m>] [--image-model <m>] [options]

Encodes every item of a dataset (P5 layout) once and caches the matrices as
.npy plus a sidecar JSON in the feature cache, where "fmrlrec train" finds them.
Encoding is batched, shows a progress bar, and resumes where an
interrupted run stopped. A model is a Hugging Face hub id (looked for in
$FMRLREC_MODELS_DIR/<id>, default ~/.cache/fmrlrec/models/<id>) or a local folder
with the ONNX export (transformers.js layout: config.json, tokenizer files or
preprocessor_config.json, onnx/*.onnx).

  --data <dir>            dataset folder (P5 layout)                          (required)
  --text-model <m>        text encoder: hub id / folder (e.g. BAAI/bge-large-en-v1.5),
                          or a built-in name (use)
  --image-model <m>       image encoder: hub id / folder (e.g. google/siglip-large-patch16-256)
  --images <dir>          item images named <asin>.jpg|.png|.webp (else the metadata's URLs)
  --allow-download        fetch models and images from the network (default: offline)
  --pooling <p>           text pooling cls | mean (default: from the model)
  --batch-size <n>        items per model call (default 16 text, 8 images)
  --name <name>           dataset name (default: folder name)
  --cache-dir <dir>       feature cache (default $FMRLREC_CACHE_DIR or ~/.cache/fmrlrec)
  --models-dir <dir>      where hub ids are looked for / downloaded
  --rebuild               encode again even when the cache is valid
  --no-progress           no progress bars
`;

const OPTIONS: OptionSpec = {
  data: { type: 'string' },
  'text-model': { type: 'string' },
  'image-model': { type: 'string' },
  images: { type: 'string' },
  'allow-download': { type: 'boolean' },
  pooling: { type: 'string' },
  'batch-size': { type: 'string' },
  name: { type: 'string' },
  'cache-dir': { type: 'string' },
  'models-dir': { type: 'string' },
  rebuild: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
};

/** A text model flag as a text encoder name: built-in names stay, anything else becomes hf:<m>. */
export function textModelName(model: string): string {
  if (model.startsWith(HF_PREFIX) || model === 'use') return model;
  return HF_PREFIX + model;
}

/** Run `fmrlrec features`. */
export async function featuresCommand(argv: string[], ctx: CliContext): Promise<number> {
  const values = parseCommandArgs('features', argv, OPTIONS);
  if (values.help) {
    ctx.out(FEATURES_HELP);
    return 0;
  }
  const data = requireString(values, 'data', 'features');
  const textModel = values['text-model'] as string | undefined;
  const imageModel = values['image-model'] as string | undefined;
  if (!textModel && !imageModel) throw new UserError('give --text-model, --image-model or both (see "fmrlrec features --help")');
  const pooling = values.pooling as string | undefined;
  if (pooling !== undefined && pooling !== 'cls' && pooling !== 'mean') throw new UserError(`--pooling must be cls or mean (got "${pooling}")`);
  const hf: HuggingFaceOptions = {
    allowDownload: values['allow-download'] === true || ctx.env.allowDownload,
    modelsDir: (values['models-dir'] as string | undefined) ?? ctx.env.modelsDir,
    pooling: pooling as HuggingFaceOptions['pooling'],
    batchSize: values['batch-size'] === undefined ? undefined : numberFlag(values, 'batch-size', 16, { min: 1, integer: true }),
  };
  const cacheDir = (values['cache-dir'] as string | undefined) ?? ctx.env.cacheDir;
  const dataset = readP5Dataset(data, values.name as string | undefined);
  const progress = values['no-progress'] !== true;
  const rebuild = values.rebuild === true;

  if (textModel) {
    const name = textModelName(textModel);
    const text = await loadItemFeatures({ dataset, cacheDir, encoder: textEncoderSource(name, hf), rebuild, progress });
    ctx.out(
      `text features: ${text.path} (${text.numRows} × ${text.dim}, ${text.fromCache ? 'from the cache' : 'encoded'}); ` + `train with --text-encoder ${name}`,
    );
  }
  if (imageModel) {
    const image = await loadItemImageFeatures({
      dataset,
      cacheDir,
      encoder: huggingFaceImageSource(imageModel, hf),
      rebuild,
      progress,
      folder: values.images as string | undefined,
      download: hf.allowDownload,
    });
    ctx.out(
      `image features: ${image.path} (${image.numRows} × ${image.dim}, ${image.fromCache ? 'from the cache' : 'encoded'}); ` +
        `${image.missing.length} item(s) without a usable image have zero rows (listed in the sidecar .json)`,
    );
    for (const m of image.missing.slice(0, 5)) ctx.out(`  item ${m.item} (${m.asin}): ${m.problem}`);
    if (image.missing.length > 5) ctx.out(`  ... and ${image.missing.length - 5} more`);
  }
  return 0;
}
