import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from './hub-table.layout.ts';
import { MAX_TRANSACTION_ITEMS, type TransactItem, transactWrite } from './transactions.ts';

/**
 * One record's write, all or nothing: its items, a count change folded into one counter update
 * per transaction, and how its cancellation reasons (in the order of its own items) become its error.
 */
export interface WriteUnit {
  items: TransactItem[];
  count?: { key: string; delta: number };
  onCancelled: (reasons: Array<string | undefined>) => Error;
}

interface Pending extends WriteUnit {
  resolve: () => void;
  reject: (error: unknown) => void;
  attempts: number;
}

export interface TransactionBatcherOptions {
  /** How long a write waits for others to share its transaction (ms). */
  windowMs?: number;
  /** Builds the one counter update of a transaction from a count key and the summed delta. */
  countUpdate: (key: string, delta: number) => TransactItem;
}

/** A transaction cancelled for other units than this one is tried again this often before the unit goes alone. */
const MAX_ATTEMPTS = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The table and key an item of a transaction writes or checks. */
const itemKeyOf = (item: TransactItem): string => {
  const target = item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck;
  const key = item.Put ? item.Put.Item : (item.Update ?? item.Delete ?? item.ConditionCheck)?.Key;
  return JSON.stringify([target?.TableName, key?.[TABLE_KEYS.pk], key?.[TABLE_KEYS.sk]]);
};

/**
 * Writes that arrive together share TransactWriteItems calls, up to DynamoDB's 100 items, so a
 * bulk import costs a call per few dozen rows instead of one per row, at the same write units.
 * Each unit (one record's items) stays whole: it lands in one transaction with all its items or
 * not at all. When a transaction is cancelled, the units whose own conditions failed get their
 * own error (a uniqueness conflict, say) and the others, which wrote nothing, go again without
 * them: one rejected row never takes its neighbours down.
 */
export class TransactionBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Transactions sent and units they carried (what the import bench reports). */
  readonly stats = { transactions: 0, units: 0 };

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: TransactionBatcherOptions,
  ) {}

  write(unit: WriteUnit): Promise<void> {
    if (unit.items.length + (unit.count ? 1 : 0) > MAX_TRANSACTION_ITEMS) return Promise.reject(new Error('a write unit holds more than one transaction'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ...unit, resolve, reject, attempts: 0 });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.windowMs ?? 3);
  }

  /**
   * Sends every pending unit, in transactions of at most 100 items each. Two units that touch the
   * same item (two creates of one group name, say) never share a transaction. DynamoDB refuses
   * such a request as a whole, which would send every unit of it alone; DynamoDB Local checks the
   * second against the first's write and cancels the transaction, so the second was told of a
   * conflict with a write that had not happened yet, and a caller reading the guard on that
   * conflict found nothing there (an import then left the rows naming that group out of it).
   * Apart, the second is refused only by a write that is there.
   */
  private async flush(): Promise<void> {
    const batches: Array<{ units: Pending[]; size: number; counts: Set<string>; keys: Set<string> }> = [];
    const sizeOf = (unit: Pending, counts: Set<string>) => unit.items.length + (unit.count && !counts.has(unit.count.key) ? 1 : 0);
    for (const unit of this.pending.splice(0)) {
      const keys = unit.items.map(itemKeyOf);
      // The first transaction with room for the unit and none of its items; else a new one.
      let batch = batches.find((open) => open.size + sizeOf(unit, open.counts) <= MAX_TRANSACTION_ITEMS && !keys.some((key) => open.keys.has(key)));
      if (!batch) {
        batch = { units: [], size: 0, counts: new Set(), keys: new Set() };
        batches.push(batch);
      }
      batch.size += sizeOf(unit, batch.counts);
      if (unit.count) batch.counts.add(unit.count.key);
      for (const key of keys) batch.keys.add(key);
      batch.units.push(unit);
    }
    await Promise.all(batches.map((batch) => this.send(batch.units)));
  }

  private async send(units: Pending[]): Promise<void> {
    if (units.length === 1) return this.alone(units[0] as Pending);
    const totals = new Map<string, number>();
    for (const unit of units) if (unit.count) totals.set(unit.count.key, (totals.get(unit.count.key) ?? 0) + unit.count.delta);
    const items = [...units.flatMap((unit) => unit.items), ...[...totals].map(([key, delta]) => this.options.countUpdate(key, delta))];
    this.stats.transactions += 1;
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      this.stats.units += units.length;
      for (const unit of units) unit.resolve();
      return;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) {
        // A request DynamoDB refuses as a whole (two units on one item, say): each unit on its own says which.
        await Promise.all(units.map((unit) => this.alone(unit)));
        return;
      }
      const reasons = (error.CancellationReasons ?? []).map((reason) => reason.Code);
      let position = 0;
      const again: Pending[] = [];
      for (const unit of units) {
        const own = reasons.slice(position, position + unit.items.length);
        position += unit.items.length;
        if (own.some((code) => code !== undefined && code !== 'None' && code !== 'TransactionConflict')) unit.reject(unit.onCancelled(own));
        else again.push(unit);
      }
      // Nothing was written: the others go again, after a pause when they met a concurrent transaction.
      if (again.length === 0) return;
      await sleep(Math.random() * 10);
      for (const unit of again) unit.attempts += 1;
      const tired = again.filter((unit) => unit.attempts >= MAX_ATTEMPTS);
      await Promise.all([...tired.map((unit) => this.alone(unit)), this.requeue(again.filter((unit) => unit.attempts < MAX_ATTEMPTS))]);
    }
  }

  private async requeue(units: Pending[]): Promise<void> {
    if (units.length === 0) return;
    this.pending.push(...units);
    this.schedule();
  }

  /** One unit in a transaction of its own, with the usual retries of a concurrent conflict. */
  private async alone(unit: Pending): Promise<void> {
    const items = [...unit.items, ...(unit.count ? [this.options.countUpdate(unit.count.key, unit.count.delta)] : [])];
    this.stats.transactions += 1;
    try {
      await transactWrite(this.client, items, (reasons) => unit.onCancelled(reasons.slice(0, unit.items.length)));
      this.stats.units += 1;
      unit.resolve();
    } catch (error) {
      unit.reject(error);
    }
  }
}
