import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured logger per container (Powertools: JSON lines with the Lambda context and a
 * correlation id). Locally every function shares the process, so the service name is per call.
 */
export const createLogger = (serviceName: string): Logger =>
  new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
