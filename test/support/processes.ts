import { readdirSync, readFileSync } from 'node:fs';

/** The command lines of the live processes whose process group is `groupId`, read from /proc. */
export const processesInGroup = (groupId: number): string[] => {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // the process ended while we looked
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) !== groupId || state === 'Z') continue;
    let command = '';
    try {
      command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      command = '(unreadable)';
    }
    found.push(`${entry} ${command}`);
  }
  return found;
};
