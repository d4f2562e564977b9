// graphql-http's GraphQL-over-HTTP audit of a served endpoint.
//
//   node tests/js/audit.mjs http://127.0.0.1:8080/graphql
//
// Prints one JSON line per audit: {"id", "name", "level", "status", "reason"}, where
// level is MUST, SHOULD or MAY (the first word of the name) and status is graphql-http's
// ("ok", or "error", "warn", "notice" for a failed MUST, SHOULD, MAY). Exits 1 when a
// MUST or SHOULD audit fails, 2 when the audit cannot run at all.

import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <url of the GraphQL endpoint>');
  process.exit(2);
}

let results;
try {
  results = await auditServer({ url });
} catch (error) {
  console.error(`the audit could not run against ${url}: ${error?.stack ?? error}`);
  process.exit(2);
}

let failed = 0;
for (const { id, name, status, reason } of results) {
  const level = name.split(' ')[0];
  console.log(JSON.stringify({ id, name, level, status, reason: reason ?? null }));
  if (status !== 'ok' && (level === 'MUST' || level === 'SHOULD')) {
    failed += 1;
  }
}
const passed = results.filter((r) => r.status === 'ok').length;
console.error(
  `${results.length} audits: ${passed} passed, ${failed} MUST/SHOULD failed, ` +
    `${results.length - passed - failed} MAY failed`,
);
process.exit(failed === 0 ? 0 : 1);
