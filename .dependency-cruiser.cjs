/**
 * The hub's layer rules, checked by `npm run lint` (dependency-cruiser). Each rule says why it
 * exists; test/unit/architecture/boundaries.test.ts proves that a violating file fails the check.
 *
 * Run code is shared/ and functions/; infra/local, infra/cli, bench/ and test/ are tooling around
 * it and may reach into the stand-ins directly.
 */
const RUNTIME = '^(shared|functions)/';
const DYNAMODB_SDK = '(^|/)node_modules/@aws-sdk/(client-dynamodb|lib-dynamodb|util-dynamodb|client-dynamodb-streams)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'pure-core-imports-no-aws',
      comment:
        'The protocol engine, the directory use cases, the sync engine and import/export are pure: they talk to ports, never to the AWS SDK or Lambda types, so tests run them with in-memory fakes.',
      severity: 'error',
      from: { path: '^shared/(scim|directory|sync|transfer)/' },
      to: { path: '(^|/)node_modules/(@aws-sdk|@smithy|@types/aws-lambda|@aws-lambda-powertools)/' },
    },
    {
      name: 'pure-core-imports-no-adapters',
      comment: 'Use cases depend on ports; the adapters (store, connectors, queues) depend on them, not the other way round.',
      severity: 'error',
      from: { path: '^shared/(scim|directory|transfer)/' },
      to: { path: '^shared/(store|connectors|queues|config|observability)/' },
    },
    {
      name: 'only-the-store-talks-to-dynamodb',
      comment: 'shared/store is the only run-time code that knows the table: its item layout and access paths live there.',
      severity: 'error',
      from: { path: RUNTIME, pathNot: '^shared/store/' },
      to: { path: DYNAMODB_SDK },
    },
    {
      name: 'vendor-sdk-in-its-connector',
      comment: "A vendor's SDK is loaded only by that vendor's connector, so other connectors' bundles stay small.",
      severity: 'error',
      from: { path: RUNTIME, pathNot: '^shared/connectors/cognito/' },
      to: { path: '(^|/)node_modules/@aws-sdk/client-cognito-identity-provider/' },
    },
    {
      name: 'functions-do-not-import-each-other',
      comment: 'Each function is its own bundle; what two functions share lives in shared/.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/', pathNot: '^functions/$1/' },
    },
    {
      name: 'shared-does-not-import-functions',
      comment: 'shared/ is the library the functions are built from, never the reverse.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^functions/' },
    },
    {
      name: 'run-time-does-not-import-infra',
      comment: 'Nothing that deploys imports the CDK app or the local runner.',
      severity: 'error',
      from: { path: RUNTIME },
      to: { path: '^infra/' },
    },
    {
      name: 'no-cycles',
      comment: 'Import cycles hide layering mistakes; shared types go into a types-only module.',
      severity: 'error',
      from: { path: '^(shared|functions|infra)/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve fails at run time.',
      severity: 'error',
      from: { path: '^(shared|functions|infra)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: '^(node_modules|cdk.out|\\.data|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
