/**
 * Template assertions on the hub stack, one module per concern. They run in one test file, so
 * that aws-cdk-lib is loaded and each stack configuration synthesized once for all of them:
 * most of the cost of a stack test is loading the CDK and the first synthesis.
 */
import './stack/table.assertions.ts';
import './stack/functions.assertions.ts';
import './stack/api.assertions.ts';
import './stack/events.assertions.ts';
import './stack/operations.assertions.ts';
import './stack/on-demand.assertions.ts';
import './stack/console.assertions.ts';
import './stack/parameters.assertions.ts';
import './stack/bucket.assertions.ts';
import './stack/cdk-nag.assertions.ts';
