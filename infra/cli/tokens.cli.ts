import '../local/sdk-notices.ts';
import { parseArgs } from 'node:util';
import { issueToken } from '#shared/auth/bearer-token.ts';
import { createDocumentClient } from '#shared/store/dynamodb.client.ts';
import { TokenRepository } from '#shared/store/token.repository.ts';
import { connectToHub } from './local-hub-connection.ts';

const usage = `Manage the SCIM bearer tokens the hub accepts (stored as SHA-256 hashes).

  npm run tokens -- create --name <label> [--strict]   issue a token; it is shown once
  npm run tokens -- list                               list tokens (never their secrets)
  npm run tokens -- revoke <token id>                  stop accepting a token

--strict makes requests with this token fail (400) on unknown attributes instead of ignoring them.
Against AWS: set TABLE_NAME (and the usual AWS credentials). Locally, with npm start running,
nothing is needed: the running hub's table is found through DATA_DIR (default ./.data).
Answers cached by the API Gateway authorizer may outlive a revocation by up to 5 minutes.`;

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
  const hub = connectToHub();
  const tokens = new TokenRepository(createDocumentClient(hub.dynamodb), hub.tableName);
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
        console.log(
          [token.id, token.name, token.created, token.revoked ? `revoked ${token.revoked}` : 'active', token.strictUnknownAttributes ? 'strict' : ''].join(
            '\t',
          ),
        );
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
