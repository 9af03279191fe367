/**
 * What the HTTP service checks and records around its routes: the bearer token
 * that write requests need, CORS for browser clients (preflight answers and
 * response headers), and the access log line of each request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UserError } from '../util/errors';

/** POST routes that only read: they stay open when a token is set. */
const READ_ONLY_POSTS = new Set(['/v1/recommend']);

/**
 * Whether a request may change the service's state, so needs the token: every
 * method but GET, HEAD and OPTIONS, except the read-only POST routes
 * (`POST /v1/recommend`). New write routes are guarded without being listed.
 */
export function isWriteRequest(method: string, pathname: string): boolean {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
  return !(method === 'POST' && READ_ONLY_POSTS.has(pathname));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The shared secret of write requests, sent as `Authorization: Bearer <token>`. */
export class BearerToken {
  private readonly digest: Buffer;

  /** @param token non-empty, without whitespace or control characters (it travels in a header) */
  constructor(token: string) {
    if (!/^[\x21-\x7e]+$/.test(token))
      throw new UserError('the token must be non-empty printable ASCII without spaces (e.g. the output of "openssl rand -hex 32")');
    this.digest = sha256(token);
  }

  /**
   * Whether an Authorization header carries this token. Both sides are hashed
   * first and compared with timingSafeEqual, so the time taken depends neither
   * on the token's length nor on how much of it a guess got right.
   */
  accepts(authorization: string | undefined): boolean {
    const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization ?? '');
    const same = timingSafeEqual(sha256(m ? m[1] : ''), this.digest);
    return m !== null && same;
  }
}

/** Methods and request headers a browser may use across origins. */
const CORS_METHODS = 'GET, HEAD, POST, OPTIONS';
const CORS_HEADERS = 'Content-Type, Authorization';
/** How long (seconds) a browser may cache a preflight answer. */
const CORS_MAX_AGE = 600;

/** Which browser origins may call the service (`--cors`). */
export class CorsPolicy {
  private constructor(private readonly origins: ReadonlySet<string> | '*') {}

  /**
   * Parse `*` (any origin) or a comma-separated list of origins such as
   * `https://shop.example,http://localhost:3000` (scheme, host and port only).
   */
  static parse(spec: string): CorsPolicy {
    if (spec.trim() === '*') return new CorsPolicy('*');
    const origins = spec.split(',').map((s) => s.trim());
    for (const origin of origins) {
      let parsed: URL | null = null;
      try {
        parsed = new URL(origin);
      } catch {
        // reported below
      }
      if (!parsed || parsed.origin !== origin) {
        throw new UserError(`"${origin}" is not a CORS origin: write scheme://host[:port] with no path or trailing slash, or * for any`, 'bad-cors-origin');
      }
    }
    return new CorsPolicy(new Set(origins));
  }

  /** Whether requests from this Origin header may read the answers. */
  allows(origin: string | undefined): boolean {
    return origin !== undefined && (this.origins === '*' || this.origins.has(origin));
  }

  /** Whether a request is a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method). */
  static isPreflight(method: string, headers: Record<string, string | string[] | undefined>): boolean {
    return method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
  }

  /**
   * Headers of an ordinary response: Access-Control-Allow-Origin for an
   * allowed origin, none for another; `Vary: Origin` whenever the answer
   * depends on the origin (a list, not `*`), so that caches keep them apart.
   */
  responseHeaders(origin: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.origins !== '*') headers.Vary = 'Origin';
    if (this.allows(origin)) headers['Access-Control-Allow-Origin'] = this.origins === '*' ? '*' : origin!;
    return headers;
  }

  /** Headers of the 204 answer to a preflight (only Vary for an origin not allowed). */
  preflightHeaders(origin: string | undefined): Record<string, string> {
    const headers = this.responseHeaders(origin);
    if (!this.allows(origin)) return headers;
    return {
      ...headers,
      'Access-Control-Allow-Methods': CORS_METHODS,
      'Access-Control-Allow-Headers': CORS_HEADERS,
      'Access-Control-Max-Age': String(CORS_MAX_AGE),
    };
  }
}

/**
 * One access log line: a JSON object per request. `route` is the route's
 * label (`/v1/items/:id`, `other` for no route), never the raw path, so that
 * item and user ids stay out of the log.
 */
export interface AccessLogEntry {
  /** When the answer was sent (ISO 8601, UTC). */
  ts: string;
  method: string;
  route: string;
  status: number;
  /** Bytes of the response body. */
  bytes: number;
  /** Milliseconds from the request's arrival to its answer. */
  ms: number;
}

/** The access log line of an entry (with its newline), `ms` rounded to microseconds. */
export function accessLogLine(entry: AccessLogEntry): string {
  return JSON.stringify({ ...entry, ms: Math.round(entry.ms * 1000) / 1000 }) + '\n';
}
