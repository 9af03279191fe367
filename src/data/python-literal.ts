/**
 * Python literals as `repr`/`str` write them (the raw Amazon 2014 metadata was
 * written with `str(dict)`: single quotes, `True`/`None`).
 */

/**
 * Parse one Python literal as written by `repr`/`str`: dicts, lists, tuples
 * (as arrays), strings with either quote (and `u`/`b`/`r` prefixes), ints,
 * floats, `True`, `False`, `None` (as null). Anything else throws an Error
 * naming the character position.
 */
export function parsePythonLiteral(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${i + 1}`);
  };
  const skipSpace = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const parseString = (): string => {
    let raw = false;
    while (i < text.length && /[uUbBrR]/.test(text[i])) {
      if (text[i] === 'r' || text[i] === 'R') raw = true;
      i++;
    }
    const quote = text[i];
    if (quote !== "'" && quote !== '"') fail('expected a string');
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i++];
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      if (i >= text.length) fail('unterminated string');
      const e = text[i++];
      if (raw) {
        out += '\\' + e;
        continue;
      }
      const hex = (n: number): string => {
        const digits = text.slice(i, i + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) fail(`bad \\${e} escape`);
        i += n;
        return String.fromCodePoint(parseInt(digits, 16));
      };
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '0':
          out += '\0';
          break;
        case 'a':
          out += '\x07';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x':
          out += hex(2);
          break;
        case 'u':
          out += hex(4);
          break;
        case 'U':
          out += hex(8);
          break;
        case '\n':
          break;
        default:
          out += e === '\\' || e === "'" || e === '"' ? e : '\\' + e;
      }
    }
  };
  const parseValue = (): unknown => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      skipSpace();
      while (text[i] !== '}') {
        const key = parseValue();
        if (typeof key !== 'string' && typeof key !== 'number') fail('dict key must be a string or number');
        skipSpace();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        obj[String(key)] = parseValue();
        skipSpace();
        if (text[i] === ',') {
          i++;
          skipSpace();
        } else if (text[i] !== '}') fail('expected "," or "}"');
      }
      i++;
      return obj;
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const list: unknown[] = [];
      skipSpace();
      while (text[i] !== close) {
        if (i >= text.length) fail(`expected "${close}"`);
        list.push(parseValue());
        skipSpace();
        if (text[i] === ',') {
          i++;
          skipSpace();
        } else if (text[i] !== close) fail(`expected "," or "${close}"`);
      }
      i++;
      return list;
    }
    if (c === "'" || c === '"' || /^[uUbBrR]{1,2}['"]/.test(text.slice(i, i + 3))) {
      return parseString();
    }
    const word = /^(True|False|None)\b/.exec(text.slice(i, i + 6));
    if (word) {
      i += word[1].length;
      return word[1] === 'True' ? true : word[1] === 'False' ? false : null;
    }
    const num = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(text.slice(i, i + 64));
    if (num) {
      i += num[0].length;
      return Number(num[0]);
    }
    return fail(i >= text.length ? 'unexpected end of input' : `unexpected "${c}"`);
  };
  const value = parseValue();
  skipSpace();
  if (i < text.length) fail('trailing characters');
  return value;
}
