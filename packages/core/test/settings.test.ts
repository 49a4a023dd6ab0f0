import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runtimeSettings } from '../src/index.ts';

describe('runtime settings from the environment', () => {
  it('has an embedded default for everything', () => {
    const s = runtimeSettings({});
    assert.equal(s.databaseUrl, undefined);
    assert.equal(s.apiPort, 8080);
    assert.deepEqual(s.dnsAddresses, ['127.0.0.1']);
    assert.equal(s.dnsPort, 5353);
    assert.equal(s.dnsUdpIo, 'batch');
    assert.equal(s.apiUrl, 'http://127.0.0.1:8080');
  });

  it('reads the DNS settings', () => {
    const s = runtimeSettings({
      CATCHMENT_DNS_ADDRESSES: '127.0.0.1, ::1',
      CATCHMENT_DNS_PORT: '53',
      CATCHMENT_DNS_UDP_IO: 'dgram',
      CATCHMENT_API_HOST: '::1',
    });
    assert.deepEqual(s.dnsAddresses, ['127.0.0.1', '::1']);
    assert.equal(s.dnsPort, 53);
    assert.equal(s.dnsUdpIo, 'dgram');
    assert.equal(s.apiUrl, 'http://[::1]:8080');
  });

  it('refuses values it cannot use, naming the variable', () => {
    assert.throws(() => runtimeSettings({ CATCHMENT_DNS_UDP_IO: 'io_uring' }), /CATCHMENT_DNS_UDP_IO/);
    assert.throws(() => runtimeSettings({ CATCHMENT_DNS_PORT: '70000' }), /CATCHMENT_DNS_PORT/);
    assert.throws(() => runtimeSettings({ CATCHMENT_API_PORT: 'http' }), /CATCHMENT_API_PORT/);
  });
});
