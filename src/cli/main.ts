#!/usr/bin/env node
/** The `fmrlrec` command line: one sub-command per file in src/cli. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors';
import { CliContext } from './context';
import { BASELINES_HELP, baselinesCommand } from './baselines';
import { DATA_HELP, dataCommand } from './data';
import { cliErrorMessage } from './errors';
import { EVAL_HELP, evalCommand } from './eval';
import { FEATURES_HELP, featuresCommand } from './features';
import { FIT_COUNTS_HELP, fitCountsCommand } from './fit-counts';
import { EXPORT_HELP, exportCommand } from './export';
import { EXPORT_TORCH_HELP, exportTorchCommand } from './export-torch';
import { IMPORT_TORCH_HELP, importTorchCommand } from './import-torch';
import { ITEMS_HELP, itemsCommand } from './items';
import { RECOMMEND_HELP, recommendCommand } from './recommend';
import { REPORT_HELP, reportCommand } from './report';
import { SERVE_HELP, serveCommand } from './serve';
import { QUICKSTART_HELP, quickstartCommand } from './quickstart';
import { TRAIN_HELP, trainCommand } from './train';

type Command = (argv: string[], ctx: CliContext) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string; help: string }> = {
  quickstart: { run: quickstartCommand, summary: 'train and evaluate on a built-in synthetic dataset (about a minute)', help: QUICKSTART_HELP },
  train: { run: trainCommand, summary: 'train a model on a dataset and evaluate every size', help: TRAIN_HELP },
  eval: { run: evalCommand, summary: 'evaluate a trained run (every size, full ranking)', help: EVAL_HELP },
  'fit-counts': {
    run: fitCountsCommand,
    summary: "fit (or refit, or remove) a trained run's count prior, as train does after training",
    help: FIT_COUNTS_HELP,
  },
  export: { run: exportCommand, summary: 'write a size (or every size) of a run as a self-contained model folder', help: EXPORT_HELP },
  recommend: { run: recommendCommand, summary: 'rank items for a history with an exported model', help: RECOMMEND_HELP },
  serve: { run: serveCommand, summary: 'serve an exported model over HTTP', help: SERVE_HELP },
  items: { run: itemsCommand, summary: 'add items to an exported model folder without retraining', help: ITEMS_HELP },
  baselines: {
    run: baselinesCommand,
    summary: 'what counting alone (popularity, the items near the last ones in the histories) scores on a dataset',
    help: BASELINES_HELP,
  },
  report: { run: reportCommand, summary: 'tables and charts over several runs (from their metrics.json)', help: REPORT_HELP },
  'import-torch': { run: importTorchCommand, summary: "build a run from the authors' PyTorch weights (safetensors)", help: IMPORT_TORCH_HELP },
  'export-torch': { run: exportTorchCommand, summary: "write a run's model with the authors' PyTorch names (safetensors)", help: EXPORT_TORCH_HELP },
  data: { run: dataCommand, summary: 'build a dataset folder from the raw Amazon 2014 files', help: DATA_HELP },
  features: { run: featuresCommand, summary: 'encode item text and images with Hugging Face models into the feature cache', help: FEATURES_HELP },
};

const USAGE = `Usage: fmrlrec <command> [options]

fMRLRec: train one multimodal sequential recommender, deploy any size.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`)
  .join('\n')}

Run "fmrlrec <command> --help" for a command's options; "fmrlrec --version" prints the version.
`;

/** The installed package's version (from its package.json, three folders above dist/src/cli). */
export function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Run the `fmrlrec` command named by argv[0] with the rest of argv; resolves to the exit code (a UserError is printed as one line, code 1). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    process.stdout.write(topic && COMMANDS[topic] ? COMMANDS[topic].help : USAGE);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`fmrlrec: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest, new CliContext(argv));
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`fmrlrec ${name}: ${cliErrorMessage(err)}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`fmrlrec: internal error (please report): ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
