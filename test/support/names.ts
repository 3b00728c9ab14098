import { randomUUID } from 'node:crypto';

/** A table name no other test file uses, so files running side by side never see each other's data. */
export const uniqueTableName = (purpose: string): string => `${purpose}-${randomUUID().slice(0, 8)}`;
