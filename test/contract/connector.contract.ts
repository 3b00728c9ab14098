import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { ConnectorError, type FailureKind } from '../../shared/connectors/connector.errors.ts';
import type { Connector, Page, TargetAttributes } from '../../shared/connectors/connector.port.ts';

/**
 * The behaviour every connector owes the sync engine, written once and run against each
 * connector on a real peer (a SCIM server, cognito-local...). A new connector is one test file
 * that calls `connectorContract` with its harness; a new ability of the port is one entry in
 * `abilityCases`, run for the connectors that have the method and skipped, by name, for the
 * others.
 */

/** An account as the target itself stores it, read through the target's own API, not the connector. */
export interface StoredAccount {
  active: boolean;
  attributes: Record<string, unknown>;
}

export interface ConnectorHarness {
  /** The connector under test, as `createConnector` builds it from its document entry, pointed at the peer. */
  connector: Connector;
  /** The attributes the sync engine would send to create an account named after `tag`, in this target's vocabulary. */
  newUser(tag: string): TargetAttributes;
  /** The attribute accounts are matched on (the connector's first matching attribute) and its value in `newUser(tag)`. */
  matchOn: { attribute: string; valueOf(tag: string): string };
  /** One attribute the update case changes, its target name and a new value. */
  updatable: { attribute: string; value: string };
  /** The account as the peer stores it, or undefined when the peer holds none under that id. */
  readUser(id: string): Promise<StoredAccount | undefined>;
  /** The target ids of a group's members, as the peer stores them, sorted. */
  groupMembers(groupId: string): Promise<string[]>;
  /**
   * A connector on a target that throttles every call, and how the throttling is made (a proxy
   * answering 429, or a mocked SDK client where no peer can throttle); `retryAfterMs` when the
   * target says how long to wait.
   */
  throttled(): Promise<{ connector: Connector; how: string; retryAfterMs?: number }>;
  /**
   * Cases the peer cannot show because it behaves unlike the real service, each with the reason
   * and where the real behaviour is tested instead. They are skipped by name, never silently.
   */
  peerDeviations?: Partial<Record<ContractCase, string>>;
  /**
   * For targets that never delete accounts (Salesforce deactivates them), why: the delete case
   * then expects the account disabled rather than gone, and `forget` removes an account on the
   * peer itself, so the not-found cases still meet an id the peer does not hold.
   */
  deleteKeepsAccount?: { reason: string; forget(id: string): Promise<void> };
  stop(): Promise<void>;
}

/** The cases a peer may be excused from, with a reason (see `peerDeviations`). */
export type ContractCase = 'update-not-found' | 'list-page-size';

export interface ContractSubject {
  /** `scim on scimmy`, `cognito on cognito-local`... */
  name: string;
  start(): Promise<ConnectorHarness>;
}

const failureOf = async (run: () => Promise<unknown>): Promise<ConnectorError> => {
  const error = await run().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ConnectorError)) throw new Error(`expected a ConnectorError, got ${error === undefined ? 'success' : String(error)}`);
  return error;
};

const expectKind = (error: ConnectorError, kind: FailureKind) => {
  expect({ kind: error.kind, retryable: error.retryable }).toEqual({ kind, retryable: kind === 'retryable' || kind === 'throttled' });
};

/**
 * Abilities some connectors have beyond the required port: the method name, and the case that
 * runs when the connector under test has it. Add one line here when the port grows.
 */
export const abilityCases: Record<string, (harness: () => ConnectorHarness) => Promise<void>> = {
  // renameGroup(targetId, displayName, externalId): the group answers to its new name; where the
  // target cannot rename in place (Cognito), the id changes and the old group is gone.
  renameGroup: async (harness) => {
    const { connector } = harness();
    const group = await connector.createGroup('Contract Before', 'hub-group-rename');
    const renamed = await connector.renameGroup(group.id, 'Contract After', 'hub-group-rename');
    expect(renamed.displayName).toContain('After');
    expect(await connector.findGroup({ id: renamed.id })).toEqual(renamed);
    if (renamed.id !== group.id) expect(await connector.findGroup({ id: group.id })).toBeUndefined();
  },
  // listUsers({ pageSize, cursor }) -> { items, next }: every account once, over pages of pageSize at most.
  listUsers: async (harness) => {
    const { connector } = harness();
    const ids = [] as string[];
    for (const tag of ['list-1', 'list-2', 'list-3']) ids.push((await connector.createUser(harness().newUser(tag))).id);
    const seen = await readAll(harness(), (cursor) => connector.listUsers({ pageSize: 2, cursor }), 2);
    expect(new Set(seen.map((a) => a.id)).size).toBe(seen.length);
    expect(seen.map((a) => a.id)).toEqual(expect.arrayContaining(ids));
    const listed = seen.find((a) => a.id === ids[0]);
    expect(listed?.attributes[harness().matchOn.attribute]).toBe(harness().matchOn.valueOf('list-1'));
  },
  // listGroups({ pageSize, cursor }) -> { items, next }: every group once, as findGroup answers it.
  listGroups: async (harness) => {
    const { connector } = harness();
    const made = [await connector.createGroup('Contract List One', 'hub-group-list-1'), await connector.createGroup('Contract List Two', 'hub-group-list-2')];
    const seen = await readAll(harness(), (cursor) => connector.listGroups({ pageSize: 1, cursor }), 1);
    expect(new Set(seen.map((g) => g.id)).size).toBe(seen.length);
    for (const group of made) expect(seen).toContainEqual(await connector.findGroup({ id: group.id }));
  },
  // listGroupMembers(groupId, { pageSize, cursor }) -> { items, next }: the members' target ids.
  listGroupMembers: async (harness) => {
    const { connector } = harness();
    const members = [] as string[];
    for (const tag of ['listed-member-1', 'listed-member-2', 'listed-member-3']) members.push((await connector.createUser(harness().newUser(tag))).id);
    const group = await connector.createGroup('Contract Listed Members', 'hub-group-listed-members');
    await connector.changeGroupMembers(group.id, { add: members, remove: [] });
    const seen = await readAll(harness(), (cursor) => connector.listGroupMembers(group.id, { pageSize: 2, cursor }), 2);
    expect([...seen].sort()).toEqual([...members].sort());
  },
};

/** Every item of a listing, checking that no page exceeds its size (unless the peer is excused from it). */
const readAll = async <T>(harness: ConnectorHarness, read: (cursor: string | undefined) => Promise<Page<T>>, pageSize: number): Promise<T[]> => {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    // A peer that ignores the page size (cognito-local) is still read completely, in one page.
    if (!harness.peerDeviations?.['list-page-size']) expect(page.items.length).toBeLessThanOrEqual(pageSize);
    all.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return all;
};

/** The one place a case is declared for an ability: runs when the connector has the method, skips by name otherwise. */
const abilityIt = (ability: string, harness: () => ConnectorHarness) =>
  it(`${ability} (when the connector has it)`, async (context: TestContext) => {
    const method = (harness().connector as unknown as Record<string, unknown>)[ability];
    if (typeof method !== 'function') context.skip(`${ability} is not part of this connector yet`);
    await abilityCases[ability]?.(harness);
  });

export const connectorContract = (subject: ContractSubject) => {
  describe(`the connector contract: ${subject.name}`, () => {
    let started: ConnectorHarness | undefined;
    const h = (): ConnectorHarness => {
      if (!started) throw new Error('the harness did not start');
      return started;
    };
    const connector = () => h().connector;
    /** Creates an account for the case and returns its target id. */
    const created = async (tag: string) => (await connector().createUser(h().newUser(tag))).id;
    /** Makes the peer hold no account under `id`. */
    const vanish = async (id: string) => {
      const keeps = h().deleteKeepsAccount;
      await (keeps ? keeps.forget(id) : connector().deleteUser(id));
    };

    beforeAll(async () => {
      started = await subject.start();
    }, 60_000);
    afterAll(async () => {
      await started?.stop();
    });

    describe('users', () => {
      it('creates an active account that the peer holds with the attributes sent', async () => {
        // Act
        const account = await connector().createUser(h().newUser('create'));
        // Assess
        const stored = await h().readUser(account.id);
        expect(stored?.active).toBe(true);
        expect(stored?.attributes[h().matchOn.attribute]).toBe(h().matchOn.valueOf('create'));
      });

      it('finds an account by its matching attribute, with the same id the create returned', async () => {
        // Prepare
        const id = await created('find');
        // Act
        const found = await connector().findUser(h().matchOn.attribute, h().matchOn.valueOf('find'));
        // Assess
        expect(found?.id).toBe(id);
        expect(found?.attributes[h().matchOn.attribute]).toBe(h().matchOn.valueOf('find'));
      });

      it('reads an account by its target id, as the peer holds it now, and answers undefined once the peer holds none', async () => {
        // Prepare
        const id = await created('read');
        const { attribute, value } = h().updatable;
        await connector().updateUser(id, { set: { [attribute]: value }, unset: [] }, { ...h().newUser('read'), [attribute]: value });
        // Act
        const read = await connector().getUser(id);
        await vanish(id);
        const gone = await connector().getUser(id);
        // Assess
        expect(read?.id).toBe(id);
        expect(read?.attributes[h().matchOn.attribute]).toBe(h().matchOn.valueOf('read'));
        expect(read?.attributes[attribute]).toBe(value);
        expect(read?.attributes.active).toBe(true);
        expect(gone).toBeUndefined();
      });

      it('answers undefined, not an error, for an account the peer does not hold', async () => {
        expect(await connector().findUser(h().matchOn.attribute, h().matchOn.valueOf('nobody-at-all'))).toBeUndefined();
      });

      it('updates one attribute and leaves the others as they were', async () => {
        // Prepare
        const id = await created('update');
        const before = await h().readUser(id);
        const { attribute, value } = h().updatable;
        // Act
        await connector().updateUser(id, { set: { [attribute]: value }, unset: [] }, { ...h().newUser('update'), [attribute]: value });
        // Assess
        const after = await h().readUser(id);
        expect(after?.attributes[attribute]).toBe(value);
        expect({ ...after?.attributes, [attribute]: undefined }).toEqual({ ...before?.attributes, [attribute]: undefined });
      });

      it('disables an account, and enables it again', async () => {
        // Prepare
        const id = await created('toggle');
        // Act, Assess
        await connector().disableUser(id, { ...h().newUser('toggle'), active: false });
        expect((await h().readUser(id))?.active).toBe(false);
        await connector().updateUser(id, { set: { active: true }, unset: [] }, { ...h().newUser('toggle'), active: true });
        expect((await h().readUser(id))?.active).toBe(true);
      });

      it('deletes an account, and deleting it again succeeds', async () => {
        // Prepare
        const id = await created('delete');
        // Act
        await connector().deleteUser(id);
        await connector().deleteUser(id);
        // Assess
        if (h().deleteKeepsAccount) expect((await h().readUser(id))?.active).toBe(false);
        else expect(await h().readUser(id)).toBeUndefined();
      });

      it('reports an update of an account the peer does not hold as notFound', async (context: TestContext) => {
        const deviation = h().peerDeviations?.['update-not-found'];
        if (deviation) context.skip(deviation);
        // Prepare
        const id = await created('vanished');
        await vanish(id);
        const { attribute, value } = h().updatable;
        // Act
        const error = await failureOf(() => connector().updateUser(id, { set: { [attribute]: value }, unset: [] }, h().newUser('vanished')));
        // Assess
        expectKind(error, 'notFound');
      });

      it('reports a disable of an account the peer does not hold as notFound', async () => {
        // Prepare
        const id = await created('gone-before-disable');
        await vanish(id);
        // Act
        const error = await failureOf(() => connector().disableUser(id, { ...h().newUser('gone-before-disable'), active: false }));
        // Assess
        expectKind(error, 'notFound');
      });

      it('reports the creation of an account that exists as a conflict', async () => {
        // Prepare
        await created('twice');
        // Act
        const error = await failureOf(() => connector().createUser(h().newUser('twice')));
        // Assess
        expectKind(error, 'conflict');
      });
    });

    describe('groups', () => {
      it('creates a group that is found by its id and by the display name the target gave it', async () => {
        // Act
        const group = await connector().createGroup('Contract Crew', 'hub-group-crew');
        // Assess: targets whose group names are restricted (Cognito) name it a collision-free
        // form of the hub's displayName, and answer to that name.
        expect(group.displayName).toContain('Contract');
        expect(await connector().findGroup({ id: group.id })).toEqual(group);
        expect(await connector().findGroup({ displayName: group.displayName })).toEqual(group);
      });

      it('answers undefined for a group the peer does not hold', async () => {
        expect(await connector().findGroup({ id: 'no-such-group' })).toBeUndefined();
        expect(await connector().findGroup({ displayName: 'No Such Group' })).toBeUndefined();
      });

      it('adds and removes members, leaving exactly the wanted ones', async () => {
        // Prepare
        const [a, b, c] = [await created('member-a'), await created('member-b'), await created('member-c')];
        const group = await connector().createGroup('Contract Members', 'hub-group-members');
        // Act
        await connector().changeGroupMembers(group.id, { add: [a, b], remove: [] });
        const afterAdd = await h().groupMembers(group.id);
        await connector().changeGroupMembers(group.id, { add: [c], remove: [a] });
        // Assess
        expect(afterAdd).toEqual([a, b].sort());
        expect(await h().groupMembers(group.id)).toEqual([b, c].sort());
      });

      it('deletes a group, and deleting it again succeeds', async () => {
        // Prepare
        const group = await connector().createGroup('Contract Gone', 'hub-group-gone');
        // Act
        await connector().deleteGroup(group.id);
        await connector().deleteGroup(group.id);
        // Assess
        expect(await connector().findGroup({ id: group.id })).toBeUndefined();
      });
    });

    describe('a target that throttles', () => {
      it('reports throttling as a retryable throttled error, with the wait the target asked for', async () => {
        // Prepare
        const throttled = await h().throttled();
        // Act
        const error = await failureOf(() => throttled.connector.createUser(h().newUser('throttled')));
        // Assess
        expectKind(error, 'throttled');
        expect(error.retryAfterMs).toBe(throttled.retryAfterMs);
      });
    });

    describe('abilities beyond the required port', () => {
      for (const ability of Object.keys(abilityCases)) abilityIt(ability, h);
    });
  });
};
