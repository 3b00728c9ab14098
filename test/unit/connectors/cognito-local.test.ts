import { describe, expect, it } from 'vitest';
import { demoCognitoConnector, nodeRunsCognitoLocal } from '../../../infra/local/cognito-local.ts';
import { ConnectorsDocumentSchema } from '../../../shared/connectors/connectors.schema.ts';

/** The parts of the cognito-local set-up that need no running cognito-local. */
describe('demoCognitoConnector', () => {
  it('points a cognito connector at the demo pool with the default mapping written out', () => {
    const config = demoCognitoConnector('http://127.0.0.1:9229', 'local_abc');

    expect(config).toMatchObject({
      id: 'cognito-demo',
      type: 'cognito',
      enabled: true,
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9229',
      userPoolId: 'local_abc',
      sendInvitation: false,
      deprovision: 'disable',
      matching: ['username', 'email'],
    });
    expect(config.mapping).toEqual([
      { target: 'username', source: 'userName', apply: 'always' },
      { target: 'email', source: 'emails[primary eq true].value', apply: 'always' },
      { target: 'given_name', source: 'name.givenName', apply: 'always' },
      { target: 'family_name', source: 'name.familyName', apply: 'always' },
      { target: 'active', source: 'active', apply: 'always' },
    ]);
  });

  it('is a connectors document entry that reads back unchanged', () => {
    const document = { connectors: [demoCognitoConnector('http://127.0.0.1:9229', 'local_abc')] };

    expect(ConnectorsDocumentSchema.parse(JSON.parse(JSON.stringify(document)))).toEqual(document);
  });
});

describe('nodeRunsCognitoLocal', () => {
  it.each([
    ['20.18.3', false],
    ['20.19.0', true],
    ['20.20.2', true],
    ['21.7.3', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['24.1.0', true],
  ])('Node %s: %s', (version, runs) => {
    expect(nodeRunsCognitoLocal(version)).toBe(runs);
  });
});
