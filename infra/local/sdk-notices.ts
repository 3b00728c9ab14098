/**
 * Imported first by `npm start` and the operator CLIs, before any AWS SDK client exists.
 *
 * The AWS SDK for JavaScript v3 prints a NodeVersionSupportWarning once per process on Node 20
 * (its releases after the first week of January 2027 need Node 22). `npm start` runs several
 * processes, so the same notice, about the SDK's future and not about anything the operator
 * can change in the hub, shows several times. Through npm the project runs on Node 22 (the
 * `node` devDependency; README, "Node 22, as on Lambda"); for whoever runs it on Node 20 anyway
 * the notice is turned off here, and an operator who sets the variable to anything else sees it
 * again.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
