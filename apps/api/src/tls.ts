import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { CatchmentError, type Logger } from '@catchment/core';
import type { FastifyRequest } from 'fastify';
import type { Principal } from './tokens.ts';

/** HTTPS of the API: PEM files, re-read when they change on disk. */
export interface ApiTlsOptions {
  cert: string;
  key: string;
  /** CA of client certificates: the API asks every client for one (mTLS). */
  clientCa?: string | undefined;
  /**
   * Who must present a valid client certificate when clientCa is set: 'agents' (tokens of the
   * agent role: DNS servers and edge agents; the default) or 'all' (operators too).
   */
  requireClientCert?: 'agents' | 'all';
  /** How often the files are checked for changes (default 1000 ms). */
  watchMs?: number;
}

/**
 * CATCHMENT_API_TLS_CERT / _KEY (both or neither), CATCHMENT_API_TLS_CLIENT_CA and
 * CATCHMENT_API_TLS_REQUIRE_CLIENT_CERT (agents | all).
 */
export function apiTlsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiTlsOptions | undefined {
  const cert = env.CATCHMENT_API_TLS_CERT || undefined;
  const key = env.CATCHMENT_API_TLS_KEY || undefined;
  const clientCa = env.CATCHMENT_API_TLS_CLIENT_CA || undefined;
  const require = env.CATCHMENT_API_TLS_REQUIRE_CLIENT_CERT || undefined;
  if (!cert && !key) {
    if (clientCa)
      throw new CatchmentError('CONFIG_INVALID', 'CATCHMENT_API_TLS_CLIENT_CA needs CATCHMENT_API_TLS_CERT and _KEY');
    return undefined;
  }
  if (!cert || !key)
    throw new CatchmentError('CONFIG_INVALID', 'CATCHMENT_API_TLS_CERT and CATCHMENT_API_TLS_KEY must be set together');
  if (require !== undefined && require !== 'agents' && require !== 'all')
    throw new CatchmentError(
      'CONFIG_INVALID',
      `CATCHMENT_API_TLS_REQUIRE_CLIENT_CERT must be "agents" or "all", got "${require}"`,
    );
  if (require && !clientCa)
    throw new CatchmentError(
      'CONFIG_INVALID',
      'CATCHMENT_API_TLS_REQUIRE_CLIENT_CERT needs CATCHMENT_API_TLS_CLIENT_CA',
    );
  return { cert, key, clientCa, ...(require ? { requireClientCert: require } : {}) };
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CatchmentError('CONFIG_INVALID', `cannot read the API's TLS ${what} ${path}: ${(err as Error).message}`);
  }
}

/** The secure-context options of node:https for these files (read now). */
export function secureContextOf(tls: ApiTlsOptions) {
  return {
    cert: read(tls.cert, 'certificate'),
    key: read(tls.key, 'key'),
    ...(tls.clientCa ? { ca: read(tls.clientCa, 'client CA') } : {}),
  };
}

/** fastify's `https` option: asks for a client certificate when there is a client CA, and judges it per token. */
export function httpsOptionsOf(tls: ApiTlsOptions) {
  return {
    ...secureContextOf(tls),
    // The handshake accepts clients without a (valid) certificate: operators may use tokens
    // alone; `checkClientCertificate` refuses agent tokens without one, with a clear problem.
    ...(tls.clientCa ? { requestCert: true, rejectUnauthorized: false } : {}),
  };
}

/**
 * Serves renewed certificates without a restart: the files are polled (a renewal usually
 * replaces them by rename, which fs.watch loses track of) and the server's secure context
 * is replaced for new connections. A half-written pair (a key that does not match yet) is
 * logged and retried at the next change; the old pair stays in use meanwhile.
 */
export function watchTlsFiles(server: Server, tls: ApiTlsOptions, logger: Logger): () => void {
  const files = [tls.cert, tls.key, tls.clientCa].filter((f): f is string => !!f);
  const reload = () => {
    try {
      server.setSecureContext(secureContextOf(tls));
      logger.info({ cert: tls.cert }, 'TLS certificate reloaded');
    } catch (err) {
      logger.warn(
        { err: (err as Error).message, cert: tls.cert },
        'TLS files changed but cannot be used yet; keeping the previous ones',
      );
    }
  };
  for (const f of files) watchFile(f, { interval: tls.watchMs ?? 1000, persistent: false }, reload);
  return () => {
    for (const f of files) unwatchFile(f, reload);
  };
}

/**
 * mTLS per token: with a client CA, agent tokens (DNS servers, edge agents), or every token
 * with requireClientCert 'all', are accepted only over a connection whose client certificate
 * chains to that CA. A stolen agent token is then useless without the host's key.
 */
export function checkClientCertificate(
  req: FastifyRequest,
  principal: Principal,
  tls: ApiTlsOptions | undefined,
): void {
  if (!tls?.clientCa) return;
  const mode = tls.requireClientCert ?? 'agents';
  if (mode === 'agents' && principal.role !== 'agent') return;
  const socket = req.raw.socket as TLSSocket;
  if (socket.authorized) return;
  const presented =
    typeof socket.getPeerCertificate === 'function' && Object.keys(socket.getPeerCertificate()).length > 0;
  throw new CatchmentError(
    'CLIENT_CERT_REQUIRED',
    presented
      ? `the client certificate is not valid for this API (${String(socket.authorizationError)}); ${principal.role} tokens need one issued by CATCHMENT_API_TLS_CLIENT_CA`
      : `${principal.role} tokens must be used over TLS with a client certificate issued by CATCHMENT_API_TLS_CLIENT_CA`,
  );
}
