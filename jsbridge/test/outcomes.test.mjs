// The intake body carries an experiment's outcome answers with exactly the
// fields the collector accepts, and nothing else from the engine's report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportBody } from '../src/report.js';

test('a report body carries outcomes field by field', () => {
  const report = {
    ruleset: 'shop', epoch: 2918, mechanism: 'krr', epsilon: 2, extra: 'dropped',
    outcomes: [{ experiment: 'hero-lift', epoch: 2917, value: 3, epsilon: 1, holdout: true }],
  };
  const body = reportBody(report);
  assert.deepEqual(body, {
    ruleset: 'shop', epoch: 2918, mechanism: 'krr', value: undefined, epsilon: 2,
    outcomes: [{ experiment: 'hero-lift', epoch: 2917, value: 3, epsilon: 1 }],
  });
  // An outcome-only report has no cohort value on the wire.
  assert.equal(JSON.stringify(body), '{"ruleset":"shop","epoch":2918,"mechanism":"krr","epsilon":2,"outcomes":[{"experiment":"hero-lift","epoch":2917,"value":3,"epsilon":1}]}');
});

test('a report body without outcomes has no outcomes key', () => {
  for (const outcomes of [undefined, []]) {
    const body = reportBody({ ruleset: 'shop', epoch: 1, mechanism: 'krr', value: 4, epsilon: 2, outcomes });
    assert.equal(JSON.stringify(body), '{"ruleset":"shop","epoch":1,"mechanism":"krr","value":4,"epsilon":2}');
  }
});
