import { AppError } from '../errors.ts';
import type { ResourceType, UniqueKey } from './directory.ports.ts';

/** A unique key (userName, externalId, group displayName) is already taken by another resource. */
export class UniquenessConflict extends AppError {
  constructor(
    readonly resourceType: ResourceType,
    readonly key: UniqueKey,
  ) {
    super('directory.uniqueness', `${resourceType} ${key.attribute} "${key.value}" is already taken`);
  }
}

/** The stored version is not the one the writer read (a concurrent change or an If-Match mismatch). */
export class VersionConflict extends AppError {
  constructor(
    readonly resourceType: ResourceType,
    readonly id: string,
  ) {
    super('directory.versionConflict', `${resourceType} ${id} was changed by someone else`, { retryable: true });
  }
}

export class ResourceNotFound extends AppError {
  constructor(
    readonly resourceType: ResourceType,
    readonly id: string,
  ) {
    super('directory.notFound', `${resourceType} ${id} not found`);
  }
}

/** A member to add was deleted after it was resolved (RFC 7644 section 3.5.2: an invalid value). */
export class MemberNotFound extends AppError {
  constructor(
    readonly resourceType: ResourceType,
    readonly id: string,
  ) {
    super('directory.memberNotFound', `member ${resourceType} ${id} does not exist`);
  }
}

/** A paging cursor that the store did not issue (or that was tampered with). */
export class InvalidCursor extends AppError {
  constructor(cursor: string, options: { cause?: unknown } = {}) {
    super('directory.invalidCursor', `invalid cursor: ${cursor.slice(0, 40)}`, options);
  }
}
