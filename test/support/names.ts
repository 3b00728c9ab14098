import { randomUUID } from 'node:crypto';

/** The tables this test file named: dropped when the file ends (drop-tables.setup.ts). */
export const namedTables = new Set<string>();

/** A table name no other test file uses, so files running side by side never see each other's data. */
export const uniqueTableName = (purpose: string): string => {
  const name = `${purpose}-${randomUUID().slice(0, 8)}`;
  namedTables.add(name);
  return name;
};
