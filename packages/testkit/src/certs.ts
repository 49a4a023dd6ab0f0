import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const openssl = (args: string[]) => run('openssl', args, { timeout: 30_000 });
/** `req` arguments for a new unencrypted EC P-256 key written to `keyFile`. */
const newKey = (keyFile: string) => [
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-nodes',
  '-keyout',
  keyFile,
];

export interface CertPair {
  cert: string;
  key: string;
}

/** A test CA (EC P-256) that issues server and client certificates with openssl, in `dir`. */
export interface TestCa extends CertPair {
  /** A server certificate for 127.0.0.1, ::1 and localhost (or `names`), signed by this CA. */
  server(name: string, names?: string[]): Promise<CertPair>;
  /** A client certificate (extendedKeyUsage clientAuth) with this common name. */
  client(name: string): Promise<CertPair>;
}

/** Makes a CA in `dir` (files `<name>-ca.pem` and `<name>-ca.key`). */
export async function makeTestCa(dir: string, name = 'test'): Promise<TestCa> {
  const ca = { cert: join(dir, `${name}-ca.pem`), key: join(dir, `${name}-ca.key`) };
  await openssl([
    'req',
    '-x509',
    '-new',
    ...newKey(ca.key),
    '-out',
    ca.cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name} test CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 0;
  const issue = async (leaf: string, ext: string): Promise<CertPair> => {
    const out = { cert: join(dir, `${leaf}.pem`), key: join(dir, `${leaf}.key`) };
    const csr = join(dir, `${leaf}.csr`);
    const extFile = join(dir, `${leaf}.ext`);
    await writeFile(extFile, ext);
    await openssl(['req', '-new', ...newKey(out.key), '-out', csr, '-subj', `/CN=${leaf}`]);
    await openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-set_serial',
      String(Date.now() * 100 + ++serial),
      '-days',
      '2',
      '-out',
      out.cert,
      '-extfile',
      extFile,
    ]);
    return out;
  };
  return {
    ...ca,
    server: (leaf, names = ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost']) =>
      issue(leaf, `subjectAltName=${names.join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`),
    client: (leaf) => issue(leaf, 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n'),
  };
}
