import { gzipSync } from 'node:zlib';
import { buildConsole } from '../infra/console/console.build.ts';

/**
 * `npm run bench -- console-bundle`: the operators' console as the browser downloads it (the
 * esbuild build `npm start` serves and the stack uploads), per asset raw and gzipped, against
 * the aim of 150 KB gzipped in all (issue 15).
 */
const AIM_GZIP_KB = 150;

const assets = await buildConsole();
const rows = [...assets].map(([path, asset]) => ({ path, raw: asset.body.byteLength / 1024, gzip: gzipSync(asset.body, { level: 9 }).byteLength / 1024 }));
const total = rows.reduce((sum, row) => ({ raw: sum.raw + row.raw, gzip: sum.gzip + row.gzip }), { raw: 0, gzip: 0 });
const width = Math.max(...rows.map((row) => row.path.length), 'total'.length);
console.log(`${'console asset'.padEnd(width)}  ${'KB'.padStart(8)}  ${'KB gzipped'.padStart(10)}`);
for (const row of [...rows, { path: 'total', ...total }])
  console.log(`${row.path.padEnd(width)}  ${row.raw.toFixed(1).padStart(8)}  ${row.gzip.toFixed(1).padStart(10)}`);
const met = total.gzip < AIM_GZIP_KB;
console.log(`aim < ${AIM_GZIP_KB} KB gzipped: ${met ? 'met' : 'MISSED'} (${((total.gzip / AIM_GZIP_KB) * 100).toFixed(0)} % of the budget)`);
if (!met) process.exitCode = 1;
