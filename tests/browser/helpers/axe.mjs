// axe-core (the npm devDependency) run inside a real page: what tests/browser/a11y.test.mjs asserts with.
//
//   const { blocking, other } = await checkPage(page, 'signed in');
//   assert.deepEqual(blocking, [], describeViolations(blocking));
//
// axe.min.js is read from node_modules and injected as a script (no network); it is injected again after a
// navigation or a reload, since the page's globals are gone then.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let axeSource;

/** axe-core's browser bundle (read once). */
export function loadAxeSource() {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

/** The impacts that fail a test. */
export const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

/**
 * Runs axe on the whole document of `page` (every rule axe enables by default: WCAG 2.x A/AA and best
 * practices) and splits the violations into blocking (serious, critical) and the rest. Each violation is
 * `{state, id, impact, help, nodes: [{target, summary}]}`.
 */
export async function checkPage(page, state) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ content: loadAxeSource() });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary ?? '', html: n.html })),
    }));
  });
  const tagged = violations.map((v) => ({ state, ...v }));
  return {
    blocking: tagged.filter((v) => BLOCKING_IMPACTS.has(v.impact)),
    other: tagged.filter((v) => !BLOCKING_IMPACTS.has(v.impact)),
  };
}

/** One line per failing node: "[state] rule (impact) target: summary". */
export function describeViolations(violations) {
  const lines = [];
  for (const v of violations) {
    for (const n of v.nodes) {
      const summary = n.summary.replace(/\s+/g, ' ').trim();
      lines.push(`[${v.state}] ${v.id} (${v.impact}) ${n.target}: ${summary} — ${v.help}\n    ${n.html.slice(0, 200)}`);
    }
  }
  return lines.join('\n');
}
