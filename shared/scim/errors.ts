import { AppError } from '../errors.ts';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The `scimType` values of RFC 7644 section 3.12, table 9. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  // RFC 9865 section 6 (cursor pagination)
  | 'invalidCursor'
  | 'expiredCursor';

export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

/**
 * An error that the SCIM endpoint renders as an RFC 7644 section 3.12 error response.
 * `detail` is shown to the client, so it must never carry internals.
 */
export class ScimError extends AppError {
  readonly status: number;
  readonly scimType: ScimType | undefined;

  constructor(status: number, scimType: ScimType | undefined, detail: string, options: { cause?: unknown } = {}) {
    super(`scim.${scimType ?? `http${status}`}`, detail, options);
    this.status = status;
    this.scimType = scimType;
  }

  toBody(): ScimErrorBody {
    return {
      schemas: [SCIM_ERROR_SCHEMA],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.message,
    };
  }
}

/** Constructors for the errors the protocol layer raises, so call sites read as the RFC does. */
export const scimErrors = {
  invalidFilter: (detail: string) => new ScimError(400, 'invalidFilter', detail),
  invalidPath: (detail: string) => new ScimError(400, 'invalidPath', detail),
  noTarget: (detail: string) => new ScimError(400, 'noTarget', detail),
  invalidValue: (detail: string) => new ScimError(400, 'invalidValue', detail),
  invalidSyntax: (detail: string) => new ScimError(400, 'invalidSyntax', detail),
  mutability: (detail: string) => new ScimError(400, 'mutability', detail),
  tooMany: (detail: string) => new ScimError(400, 'tooMany', detail),
  invalidVers: (detail: string) => new ScimError(400, 'invalidVers', detail),
  invalidCursor: (detail: string) => new ScimError(400, 'invalidCursor', detail),
  uniqueness: (detail: string) => new ScimError(409, 'uniqueness', detail),
  notFound: (detail: string) => new ScimError(404, undefined, detail),
  preconditionFailed: (detail: string) => new ScimError(412, undefined, detail),
  payloadTooLarge: (detail: string) => new ScimError(413, undefined, detail),
  unauthorized: (detail: string) => new ScimError(401, undefined, detail),
  methodNotAllowed: (detail: string) => new ScimError(405, undefined, detail),
  notImplemented: (detail: string) => new ScimError(501, undefined, detail),
} as const;
