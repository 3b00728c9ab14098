import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { issueToken } from '#shared/auth/bearer-token.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { TokenRepository } from '#shared/store/token.repository.ts';
import { localAwsConfig } from '../local/local-aws.ts';

const usage = `Manage the SCIM bearer tokens the hub accepts (stored as SHA-256 hashes).

  npm run tokens -- create --name <label> [--strict]   issue a token; it is shown once
  npm run tokens -- list                               list tokens (never their secrets)
  npm run tokens -- revoke <token id>                  stop accepting a token

--strict makes requests with this token fail (400) on unknown attributes instead of ignoring them.
Against AWS: set TABLE_NAME (and the usual AWS credentials). Locally, with npm start running,
nothing is needed: the running hub's table is found through DATA_DIR (default ./.data).
Answers cached by the API Gateway authorizer may outlive a revocation by up to 5 minutes.`;

/** The running local hub's table, or the table named by TABLE_NAME in AWS. */
const connect = () => {
  if (process.env.TABLE_NAME) return { client: new DynamoDBClient({}), tableName: process.env.TABLE_NAME };
  const file = join(process.env.DATA_DIR ?? './.data', 'local-endpoints.json');
  if (!existsSync(file)) {
    throw new Error(`No TABLE_NAME set and no running local hub found (${file}); start it with npm start, or set TABLE_NAME.`);
  }
  const local = JSON.parse(readFileSync(file, 'utf8')) as { dynamodb: string; tableName: string };
  return { client: new DynamoDBClient({ ...localAwsConfig, endpoint: local.dynamodb }), tableName: local.tableName };
};

const main = async (): Promise<number> => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, strict: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
  });
  const [command, argument] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return command ? 0 : 2;
  }
  const { client, tableName } = connect();
  const tokens = new TokenRepository(createDocumentClient(client), tableName);
  switch (command) {
    case 'create': {
      if (!values.name) throw new Error('create needs --name <label>');
      const issued = issueToken();
      await tokens.put({ id: issued.id, hash: issued.hash, name: values.name, created: new Date().toISOString(), strictUnknownAttributes: values.strict });
      console.log(`token id  ${issued.id}\ntoken     ${issued.token}\nKeep it now: the hub stores only its hash.`);
      return 0;
    }
    case 'list':
      for (const token of await tokens.list()) {
        console.log([token.id, token.name, token.created, token.revoked ? `revoked ${token.revoked}` : 'active', token.strictUnknownAttributes ? 'strict' : ''].join('\t'));
      }
      return 0;
    case 'revoke':
      if (!argument) throw new Error('revoke needs a token id (see list)');
      if (!(await tokens.revoke(argument, new Date().toISOString()))) {
        console.error(`no token with id ${argument}`);
        return 1;
      }
      console.log(`revoked ${argument}`);
      return 0;
    default:
      console.error(usage);
      return 2;
  }
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
