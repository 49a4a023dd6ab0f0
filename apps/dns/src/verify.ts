import DNS from 'dns2';

/**
 * Asks one of our servers what it answers, as an outside client would: used to verify a
 * server after a deploy or a snapshot (CLI, controller) and by tests. This is where dns2 fits:
 * it only reads replies of our own servers, never untrusted packets on the query path.
 */
export interface CheckResult {
  rcode: number;
  addresses: string[];
}

export async function queryServer(opts: {
  address: string;
  port: number;
  name: string;
  type?: 'A' | 'AAAA';
  /** Client address sent as ECS. */
  clientIp?: string;
  timeoutMs?: number;
}): Promise<CheckResult> {
  const resolve = DNS.UDPClient({
    dns: opts.address,
    port: opts.port,
    socketType: opts.address.includes(':') ? 'udp6' : 'udp4',
    timeout: opts.timeoutMs ?? 2000,
  });
  const type = opts.type ?? 'A';
  const reply = await resolve(opts.name, type, DNS.Packet.CLASS.IN, {
    recursive: false,
    ...(opts.clientIp ? { clientIp: opts.clientIp } : {}),
  });
  const wanted = type === 'A' ? DNS.Packet.TYPE.A : DNS.Packet.TYPE.AAAA;
  return {
    rcode: reply.header.rcode,
    addresses: reply.answers.filter((a) => a.type === wanted).map((a) => (a as { address?: string }).address ?? ''),
  };
}
