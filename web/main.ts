/**
 * The browser demo: loads an exported size folder (default ./model/, or
 * ?model=<url>), shows the catalogue, and after each click feeds the item into
 * the engine's stream (one step of the recurrence) and ranks the catalogue
 * again, all in the page. `window.fmrlrecDemo` exposes the state for tests.
 */
import {
  CONFIG_FILE,
  COUNT_PRIOR_FILE,
  engineFromFiles,
  ITEM_TABLE_FILE,
  ITEMS_FILE,
  WEIGHTS_FILE,
  type ItemEntry,
  type RankedItem,
  type UserStream,
} from 'fmrlrec/engine';

const K = 10;
const CATALOGUE_ROWS = 40;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

async function main(): Promise<void> {
  const base = new URLSearchParams(location.search).get('model') ?? 'model/';
  const root = base.endsWith('/') ? base : `${base}/`;
  const [config, items, weights, itemTable] = await Promise.all([
    fetchOk(root + CONFIG_FILE).then((r) => r.json()),
    fetchOk(root + ITEMS_FILE).then((r) => r.json()),
    fetchOk(root + WEIGHTS_FILE).then((r) => r.arrayBuffer()),
    fetchOk(root + ITEM_TABLE_FILE).then((r) => r.arrayBuffer()),
  ]);
  const countPriorBytes: ArrayBuffer | null = config.countPrior ? await (await fetchOk(root + COUNT_PRIOR_FILE)).arrayBuffer() : null;
  const countPrior = countPriorBytes ? new Uint8Array(countPriorBytes) : null;
  const { engine, catalogue } = engineFromFiles({ config, items, weights: new Uint8Array(weights), itemTable: new Uint8Array(itemTable), countPrior }, root);
  const entries = items as ItemEntry[];

  const sizeSelect = $<HTMLSelectElement>('size');
  for (const m of engine.sizes) sizeSelect.add(new Option(String(m), String(m), false, m === engine.width));
  let size = engine.width;
  let stream: UserStream = engine.startStream(size);
  const history: number[] = [];
  let recommendations: RankedItem[] = [];

  const itemRow = (id: number, extra: string): HTMLLIElement => {
    const entry = catalogue.item(id)!;
    const li = document.createElement('li');
    li.dataset.id = String(id);
    li.append(entry.title || `item ${id}`);
    if (entry.asin) li.append(Object.assign(document.createElement('span'), { className: 'asin', textContent: entry.asin }));
    if (extra) li.append(Object.assign(document.createElement('span'), { className: 'score', textContent: extra }));
    return li;
  };

  const render = () => {
    $('history').replaceChildren(...history.map((id) => itemRow(id, '')));
    $('recommendations').replaceChildren(...recommendations.map((r) => itemRow(r.id, r.score.toFixed(3))));
    $('status').textContent =
      `${config.dataset}: ${engine.numItems} items, size ${size} of ${engine.sizes.join(', ')}; ` +
      `${history.length} click(s); ranked in ${lastMs.toFixed(1)} ms in this page`;
  };

  let lastMs = 0;
  const recommend = () => {
    const started = performance.now();
    recommendations = engine.rank(engine.streamVector(stream), size, { k: K, exclude: history, history });
    lastMs = performance.now() - started;
    render();
  };

  const click = (id: number) => {
    history.push(id);
    const started = performance.now();
    engine.push(stream, id);
    recommendations = engine.rank(engine.streamVector(stream), size, { k: K, exclude: history, history });
    lastMs = performance.now() - started;
    render();
  };

  const showCatalogue = () => {
    const query = $<HTMLInputElement>('search').value.trim().toLowerCase();
    const shown = entries.filter((e) => !query || e.title.toLowerCase().includes(query) || e.asin.toLowerCase() === query).slice(0, CATALOGUE_ROWS);
    $('catalogue').replaceChildren(...shown.map((e) => itemRow(e.id, '')));
  };

  for (const list of ['catalogue', 'recommendations']) {
    $(list).addEventListener('click', (event) => {
      const li = (event.target as HTMLElement).closest('li');
      if (li?.dataset.id) click(Number(li.dataset.id));
    });
  }
  $('search').addEventListener('input', showCatalogue);
  $('reset').addEventListener('click', () => {
    history.length = 0;
    stream = engine.startStream(size);
    recommend();
  });
  sizeSelect.addEventListener('change', () => {
    size = Number(sizeSelect.value);
    stream = engine.startStream(size);
    for (const id of history) engine.push(stream, id);
    recommend();
  });

  showCatalogue();
  recommend();
  (window as unknown as { fmrlrecDemo: unknown }).fmrlrecDemo = {
    ready: true,
    size: () => size,
    history: () => history.slice(),
    recommendations: () => recommendations.map((r) => ({ ...r })),
  };
  document.body.dataset.ready = 'true';
}

main().catch((err: Error) => {
  $('status').textContent = `could not load the model: ${err.message}`;
  document.body.dataset.error = err.message;
});
