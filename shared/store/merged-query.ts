import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

interface Lane {
  input: QueryCommandInput;
  buffer: Array<Record<string, unknown>>;
  start: Record<string, unknown> | undefined;
  done: boolean;
}

/**
 * Several Queries read as one, in the order of a sort key they share: the partitions of a
 * sharded key (each in order) merged into one ordered stream. Every partition is read a chunk
 * at a time, only when its next item is needed, so a page costs about a page of reads.
 * Sort keys must be unique across the partitions, which makes the last one handed out a
 * position in every partition at once (the paging cursor).
 */
export class MergedQuery {
  private readonly lanes: Lane[];

  constructor(
    private readonly client: DynamoDBDocumentClient,
    inputs: QueryCommandInput[],
    private readonly sortKey: string,
    private readonly descending: boolean,
    private readonly chunk: number,
  ) {
    this.lanes = inputs.map((input) => ({ input, buffer: [], start: undefined, done: false }));
  }

  /** The next item in order, or undefined when every partition is read. */
  async next(): Promise<Record<string, unknown> | undefined> {
    await Promise.all(this.lanes.filter((lane) => lane.buffer.length === 0 && !lane.done).map((lane) => this.fill(lane)));
    let best: Lane | undefined;
    for (const lane of this.lanes) {
      if (lane.buffer.length === 0) continue;
      if (!best || this.before(lane.buffer[0] as Record<string, unknown>, best.buffer[0] as Record<string, unknown>)) best = lane;
    }
    return best?.buffer.shift();
  }

  /** True when nothing is left to read (false means there may be more). */
  get exhausted(): boolean {
    return this.lanes.every((lane) => lane.done && lane.buffer.length === 0);
  }

  private before(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
    const x = String(a[this.sortKey]);
    const y = String(b[this.sortKey]);
    return this.descending ? x > y : x < y;
  }

  /** Reads the lane's next chunk; a filtered Query may return an empty page before the end. */
  private async fill(lane: Lane): Promise<void> {
    while (lane.buffer.length === 0 && !lane.done) {
      const page = await this.client.send(
        new QueryCommand({ ...lane.input, ScanIndexForward: !this.descending, Limit: this.chunk, ExclusiveStartKey: lane.start }),
      );
      lane.buffer.push(...(page.Items ?? []));
      lane.start = page.LastEvaluatedKey;
      lane.done = !lane.start;
    }
  }
}
