import { describe, expect, it } from 'vitest';
import { makeConnectorCache } from '../../../shared/connectors/connector.cache.ts';
import type { Connector } from '../../../shared/connectors/connector.port.ts';
import { makeSecretResolver, SECRET_TTL_MS } from '../../../shared/connectors/connectors.source.ts';
import { connectorConfig, FakeTarget } from '../../builders/sync.fakes.ts';

describe('connector cache', () => {
  it('builds a connector again after its construction failed, instead of keeping the rejection', async () => {
    let builds = 0;
    const connectorOf = makeConnectorCache(async () => {
      builds++;
      if (builds === 1) throw new Error('ThrottlingException: Rate exceeded');
      return new FakeTarget() as Connector;
    });
    const config = connectorConfig();

    await expect(connectorOf(config)).rejects.toThrow('Rate exceeded');
    const built = await connectorOf(config);

    expect(await connectorOf(config)).toBe(built);
    expect(builds).toBe(2);
  });

  it('rebuilds when the document entry changes', async () => {
    let builds = 0;
    const connectorOf = makeConnectorCache(async () => {
      builds++;
      return new FakeTarget() as Connector;
    });

    await connectorOf(connectorConfig());
    await connectorOf(connectorConfig({ rateLimit: { requestsPerSecond: 5 } }));

    expect(builds).toBe(2);
  });
});

describe('secret resolver', () => {
  const arn = { secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:app-token' };

  it('reads a secret again once it is older than 5 minutes, and at once when asked for a fresh one', async () => {
    let time = 0;
    let version = 0;
    const secrets = makeSecretResolver(async () => `token-${++version}`, { now: () => time });

    expect(await secrets.resolve(arn)).toBe('token-1');
    time += SECRET_TTL_MS - 1;
    expect(await secrets.resolve(arn)).toBe('token-1');
    time += 1;
    expect(await secrets.resolve(arn)).toBe('token-2');
    expect(await secrets.sourceOf(arn).refresh()).toBe('token-3');
    expect(await secrets.sourceOf(arn).get()).toBe('token-3');
    expect(SECRET_TTL_MS).toBeLessThanOrEqual(5 * 60_000);
  });

  it('does not keep a failed read', async () => {
    let calls = 0;
    const secrets = makeSecretResolver(async () => {
      calls++;
      if (calls === 1) throw new Error('ThrottlingException');
      return 'token';
    });

    await expect(secrets.resolve(arn)).rejects.toThrow('ThrottlingException');
    expect(await secrets.resolve(arn)).toBe('token');
  });
});
