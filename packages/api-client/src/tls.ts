import { readFileSync, statSync } from 'node:fs';
import type { Agent as HttpsAgent } from 'node:https';
import { ApiConfigError } from './endpoints.ts';

/** Files of a consumer's TLS settings (PEM). */
export interface ClientTlsFiles {
  /** CA bundle the API's certificate must chain to (CATCHMENT_API_CA); default: the system's. */
  ca?: string | undefined;
  /** Client certificate and key presented to the API (CATCHMENT_API_CLIENT_CERT / _KEY). */
  cert?: string | undefined;
  key?: string | undefined;
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ApiConfigError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

const mtime = (path: string | undefined) => {
  if (!path) return 0;
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
};

/**
 * One keep-alive HTTPS agent with the consumer's CA and client certificate, rebuilt when
 * one of the files changes (certificates are renewed on disk; a consumer runs for months).
 * The files are checked at most every `checkMs`.
 */
export class ClientTls {
  readonly files: ClientTlsFiles;
  readonly #checkMs: number;
  #agent: HttpsAgent | undefined;
  #stamp = '';
  #checkedAt = 0;

  constructor(files: ClientTlsFiles, checkMs = 10_000) {
    if (!!files.cert !== !!files.key)
      throw new ApiConfigError('CATCHMENT_API_CLIENT_CERT and CATCHMENT_API_CLIENT_KEY must be set together');
    this.files = files;
    this.#checkMs = checkMs;
    this.agent(); // unreadable files are a startup error, not a surprise at the first request
  }

  agent(now = Date.now()): HttpsAgent {
    if (this.#agent && now - this.#checkedAt < this.#checkMs) return this.#agent;
    this.#checkedAt = now;
    const { ca, cert, key } = this.files;
    const stamp = [ca, cert, key].map(mtime).join(':');
    if (this.#agent && stamp === this.#stamp) return this.#agent;
    // Loaded here, not imported: see ApiClient's request.
    const next = new (process.getBuiltinModule('node:https').Agent)({
      keepAlive: true,
      ...(ca ? { ca: read(ca, 'the API CA file') } : {}),
      ...(cert ? { cert: read(cert, 'the client certificate') } : {}),
      ...(key ? { key: read(key, 'the client key') } : {}),
    });
    this.#agent?.destroy();
    this.#agent = next;
    this.#stamp = stamp;
    return next;
  }

  close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }
}

/** Node's certificate verification error codes, for a message that says what to fix. */
export const VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A transport error as one line: what failed and, for certificates, which setting to look at. */
export function describeTransportError(err: unknown, url: string): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e.code ?? '';
  if (VERIFY_CODES.has(code))
    return `the certificate of ${url} is not trusted (${code}: ${e.reason ?? e.message}); set CATCHMENT_API_CA to the CA that issued it`;
  if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(e.message))
    return `TLS handshake with ${url} failed (${e.message.split('\n')[0]}); is the URL's scheme (http/https) the one the API serves?`;
  if (/certificate required|alert bad certificate|alert unknown ca/i.test(e.message))
    return `${url} refused this client's certificate (${e.message.split('\n')[0]}); check CATCHMENT_API_CLIENT_CERT / _KEY`;
  return `cannot reach the API at ${url} (${code || e.message})`;
}
