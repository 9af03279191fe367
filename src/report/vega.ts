/**
 * Loading vega and vega-lite, the chart libraries of `fmrlrec report`, only when
 * a report is drawn (they are dev dependencies, and ESM-only).
 *
 * The project compiles to CommonJS, where TypeScript turns `import('vega')` into
 * `require('vega')`, which cannot load an ES module on every Node 20. So the
 * module is located with `require.resolve` (from this package, whatever the
 * working folder) and loaded by a real dynamic `import()` of its file URL, kept
 * out of TypeScript's sight in a `Function` body.
 */
import { pathToFileURL } from 'node:url';
import { UserError } from '../util/errors';

/** The part of vega-lite's API the report uses. */
export interface VegaLiteApi {
  /** Compile a Vega-Lite specification to a Vega one. */
  compile(spec: object): { spec: object };
}

/** A vega View as the report uses it: headless, to SVG text. */
export interface VegaView {
  toSVG(): Promise<string>;
  finalize(): void;
}

/** The part of vega's API the report uses. */
export interface VegaApi {
  parse(spec: object): unknown;
  View: new (runtime: unknown, options: { renderer: 'none' }) => VegaView;
}

/** Both libraries, loaded. */
export interface ChartLibraries {
  vega: VegaApi;
  vegaLite: VegaLiteApi;
}

/** The one-line error when the libraries are missing. */
export const MISSING_VEGA_MESSAGE = 'vega and vega-lite are not installed (the charts need them): npm install vega vega-lite';

const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<unknown>;

let loaded: Promise<ChartLibraries> | null = null;

/**
 * Load vega and vega-lite once per process.
 * @throws UserError with {@link MISSING_VEGA_MESSAGE} when either is not installed
 */
export function loadChartLibraries(): Promise<ChartLibraries> {
  if (!loaded) {
    let urls: [string, string];
    try {
      urls = [pathToFileURL(require.resolve('vega')).href, pathToFileURL(require.resolve('vega-lite')).href];
    } catch {
      return Promise.reject(new UserError(MISSING_VEGA_MESSAGE));
    }
    loaded = Promise.all(urls.map(importModule)).then(([vega, vegaLite]) => ({ vega: vega as VegaApi, vegaLite: vegaLite as VegaLiteApi }));
  }
  return loaded;
}
