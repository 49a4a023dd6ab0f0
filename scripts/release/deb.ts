import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The Debian architecture of this machine (the runtime and the addon are built for it). */
export const debArch = (): string => execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();

function sizeKb(dir: string): number {
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) bytes += statSync(p).size;
    }
  };
  walk(dir);
  return Math.ceil(bytes / 1024);
}

export interface DebOptions {
  root: string;
  lib: string;
  version: string;
  out: string;
  /** gzip -1 instead of xz (the suite's builds). */
  fast?: boolean;
}

/**
 * The Debian package: /usr/lib/catchment (the release tree), /usr/bin/catchment, the units in
 * /lib/systemd/system, commented environment files in /etc/catchment (conffiles: an upgrade
 * keeps the operator's), docs in /usr/share/doc/catchment; the maintainer scripts of
 * deploy/debian make the `catchment` user and /var/lib/catchment.
 */
export function buildDeb(o: DebOptions): string {
  const arch = debArch();
  const tree = path.join(path.dirname(o.lib), 'deb');
  mkdirSync(path.join(tree, 'DEBIAN'), { recursive: true });
  cpSync(o.lib, path.join(tree, 'usr/lib/catchment'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(path.join(tree, 'usr/bin'), { recursive: true });
  symlinkSync('../lib/catchment/bin/catchment', path.join(tree, 'usr/bin/catchment'));
  cpSync(path.join(o.root, 'deploy/systemd'), path.join(tree, 'lib/systemd/system'), { recursive: true });
  const etc = path.join(tree, 'etc/catchment');
  cpSync(path.join(o.root, 'deploy/env'), etc, { recursive: true });
  const conffiles = readdirSync(etc).map((f) => `/etc/catchment/${f}`);
  const doc = path.join(tree, 'usr/share/doc/catchment');
  mkdirSync(doc, { recursive: true });
  cpSync(path.join(o.root, 'LICENSE'), path.join(doc, 'copyright'));
  for (const f of ['CHANGELOG.md', 'README.md', 'docs/deploy.md', 'docs/design.md'])
    cpSync(path.join(o.root, f), path.join(doc, path.basename(f)));
  for (const s of ['postinst', 'prerm', 'postrm']) {
    cpSync(path.join(o.root, 'deploy/debian', s), path.join(tree, 'DEBIAN', s));
    chmodSync(path.join(tree, 'DEBIAN', s), 0o755);
  }
  writeFileSync(path.join(tree, 'DEBIAN/conffiles'), `${conffiles.join('\n')}\n`);
  const control = {
    Package: 'catchment',
    Version: o.version,
    Architecture: arch,
    Maintainer: 'Catchment developers <catchment@example.org>',
    'Installed-Size': String(sizeKb(tree)),
    // The runtime is Node's own binary (glibc, libstdc++); adduser for the postinst.
    Depends: 'libc6 (>= 2.28), libstdc++6, libgcc-s1, adduser',
    Recommends: 'dnsutils',
    Suggests: 'bird2, bpftool, iproute2, postgresql, patroni, prometheus',
    Section: 'net',
    Priority: 'optional',
    Homepage: 'https://github.com/catchment/catchment',
    Description: [
      'GeoDNS + anycast traffic steering with automated load shedding',
      ' Catchment is an authoritative nameserver answering each client with the best edge,',
      ' a REST API, a controller that sheds load step by step (DNS shift, unicast',
      ' withdrawal, BGP communities, XDP direct server return) and an edge agent driving',
      ' BIRD and XDP. This package ships its own Node.js 24 runtime.',
    ].join('\n'),
  };
  writeFileSync(
    path.join(tree, 'DEBIAN/control'),
    `${Object.entries(control)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n')}\n`,
  );
  mkdirSync(o.out, { recursive: true });
  const file = path.join(o.out, `catchment_${o.version}_${arch}.deb`);
  const z = o.fast ? ['-Zgzip', '-z1'] : ['-Zxz'];
  execFileSync('dpkg-deb', ['--root-owner-group', ...z, '--build', tree, file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return file;
}
