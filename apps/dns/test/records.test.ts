import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sealSnapshot } from '@catchment/core';
import { GeoDb } from '@catchment/geo';
import { demoBody } from '@catchment/testkit/geo-fixtures';
import { compileSnapshot } from '../src/index.ts';
import { absoluteName, encodeName } from '../src/wire/names.ts';
import { encodeRdata, encodeTxt } from '../src/wire/rdata.ts';

describe('record data from snapshot text', () => {
  it('encodes names, absolute and relative', () => {
    assert.deepEqual(encodeName('www.Example.net.'), Buffer.from('\x03www\x07example\x03net\x00', 'latin1'));
    assert.equal(absoluteName('@', 'example.net'), 'example.net');
    assert.equal(absoluteName('mail', 'example.net'), 'mail.example.net');
    assert.equal(absoluteName('mail.example.net', 'example.net'), 'mail.example.net');
    assert.equal(absoluteName('mx.other.org.', 'example.net'), 'mx.other.org');
    assert.throws(() => encodeName(`${'a'.repeat(64)}.net`));
  });

  it('encodes TXT strings: quoted, escaped, several, and split at 255 bytes', () => {
    assert.deepEqual(encodeTxt('"a b" "c\\"d" "\\065"'), Buffer.from('\x03a b\x03c"d\x01A', 'latin1'));
    assert.deepEqual(encodeTxt('plain text'), Buffer.from('\x0aplain text', 'latin1'));
    const long = encodeTxt(`"${'x'.repeat(600)}"`);
    assert.deepEqual([long[0], long[256], long[512]], [255, 255, 90]);
    assert.throws(() => encodeTxt('"unterminated'));
  });

  it('encodes MX, SRV, CAA, AAAA', () => {
    assert.deepEqual(
      encodeRdata('MX', '10 mail', 'example.net'),
      Buffer.concat([Buffer.from([0, 10]), encodeName('mail.example.net')]),
    );
    assert.deepEqual(
      encodeRdata('SRV', '1 2 443 www.example.net.', 'example.net').subarray(0, 6),
      Buffer.from([0, 1, 0, 2, 1, 187]),
    );
    assert.deepEqual(
      encodeRdata('CAA', '128 issue "ca.example"', 'example.net'),
      Buffer.from('\x80\x05issueca.example', 'latin1'),
    );
    assert.equal(encodeRdata('AAAA', '2001:db8::1', 'example.net').length, 16);
    assert.throws(() => encodeRdata('A', '2001:db8::1', 'example.net'));
    assert.throws(() => encodeRdata('MX', 'mail', 'example.net'));
  });

  it('skips a bad record with a reason instead of failing the snapshot', () => {
    const body = demoBody();
    body.zones[0]!.records.push({ name: 'bad.example.net', type: 'A' as never, ttl: 60, value: 'not-an-address' });
    body.zones[0]!.records.push({ name: 'x.other.org.', type: 'A' as never, ttl: 60, value: '192.0.2.1' });
    const geo = new GeoDb({ watch: false });
    const zones = compileSnapshot(sealSnapshot(1, body), geo);
    geo.close();
    assert.equal(zones.problems.length, 2);
    assert.match(zones.problems.join('\n'), /bad\.example\.net A "not-an-address"/);
    assert.match(zones.problems.join('\n'), /x\.other\.org: outside every zone/);
  });
});
