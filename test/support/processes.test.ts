import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.ts';
import { processesInGroup } from './processes.ts';

describe('processesInGroup', () => {
  it('lists the live processes of a process group, and none once the group is gone', async () => {
    // Prepare: a group of its own, a shell and its sleep
    const leader = spawn('sh', ['-c', 'sleep 30 & wait'], { detached: true, stdio: 'ignore' });
    const groupId = leader.pid;
    if (groupId === undefined) throw new Error('no pid');
    try {
      // Act, Assess
      const members = await eventually(() => {
        const found = processesInGroup(groupId);
        expect(found.some((line) => line.includes('sleep 30'))).toBe(true);
        return found;
      });
      expect(members.some((line) => line.startsWith(`${groupId} sh -c`))).toBe(true);
    } finally {
      process.kill(-groupId, 'SIGKILL');
    }
    await eventually(() => expect(processesInGroup(groupId)).toEqual([]), 5_000, 100);
  });

  it('finds nothing for a group that does not exist', () => {
    expect(processesInGroup(2 ** 22 + 12_345)).toEqual([]);
  });
});
