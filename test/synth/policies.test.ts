/**
 * Policy checks over every resource of the synthesized stack (test/support/policy-rules.ts). Every
 * switched resource is in the synthesized JSON whatever its variable (its `count` decides at plan
 * time), so each rule sees the whole stack, not the default configuration's part of it.
 *
 * Each rule reports its violations as `<resource address>: <what is wrong> [<rule id>]` and must find
 * none, so a failure lists every offender at once. Each rule also checks that it looked at something,
 * so that a renamed resource type cannot make it pass by checking nothing. That each rule can fail at
 * all is shown in policy-rules.test.ts, which breaks copies of the stack.
 */
import * as rules from '../support/policy-rules';
import type { PolicyRule } from '../support/policy-rules';
import { synthStack } from '../support/synth';

const { parsed: stack } = synthStack();

/**
 * Violations of a rule the stack does not meet yet and AWS does not force, each with its fix. These
 * are no exceptions: a listed violation must still occur, so the entry goes with the fix.
 */
const PENDING_FIXES: readonly { violation: string; fix: string }[] = [];

/** Runs a rule on the stack: it looked at something, and it found nothing but the pending fixes. */
function expectMet(rule: PolicyRule): void {
  const { checked, violations } = rule.check(stack);
  expect(checked).toBeGreaterThan(0);
  const pending = PENDING_FIXES.map((p) => p.violation).filter((v) => v.endsWith(`[${rule.id}]`));
  expect(violations.filter((v) => !pending.includes(v))).toEqual([]);
  // A pending violation that no longer occurs was fixed: remove its entry.
  expect(pending.filter((v) => !violations.includes(v))).toEqual([]);
}

const SECTIONS: [string, PolicyRule[]][] = [
  ['1. S3 buckets and data locations', [
    rules.bucketsEncrypted, rules.bucketsPrivate, rules.bucketsTlsOnly, rules.bucketsVersioned, rules.bucketsOwnerEnforced,
    rules.bucketsLifecycle, rules.dataLocationsInStackBuckets,
  ]],
  ['2. DynamoDB tables', [rules.tablesRecoverable]],
  ['3. queues, topics and keys', [rules.queuesEncrypted, rules.topicsEncrypted, rules.keysRotated]],
  ['4. secrets and credentials', [
    rules.secretsManaged, rules.noSecretValuesInState, rules.secretsReadNarrowly, rules.sensitiveVariablesContained, rules.noLiteralCredentials,
  ]],
  ['5. log groups', [rules.logsExpire]],
  ['6. asynchronous paths: a dead-letter queue, an alarm on it, bounded retries', [
    rules.invokeConfigsHaveDestination, rules.eventTargetsHaveDeadLetters, rules.consumedQueuesRedrive, rules.deadLettersAlarmed,
    rules.deadLettersWritable, rules.deadLettersKeepLongEnough, rules.consumedQueuesOutlastFunctions, rules.retriesBounded,
    rules.alarmsNotify, rules.countsConsistent,
  ]],
  ['7. IAM, resource policies and outbound calls', [
    rules.identityPoliciesLeastPrivilege, rules.keyPoliciesNarrow, rules.noBroadManagedPolicies, rules.rolesTrustOneService, rules.lambdaPermissionsScoped,
    rules.resourcePoliciesScoped, rules.endpointsUseTls,
  ]],
  ['8. Cognito', [rules.passwordsStrong, rules.clientsPublicAndBounded]],
  ['9. API Gateway', [rules.routesAuthorized, rules.noApiKeyOnlyRoutes, rules.stagesThrottled, rules.stagesLogAccess]],
  ['10. Lambda functions', [
    rules.functionsOwnRoles, rules.functionsLogToStackGroups, rules.functionsOnSupportedRuntime, rules.functionEnvironmentsHoldNoSecrets,
    rules.concurrencyBounded,
  ]],
  ['11. Firehose, Athena, Glue', [rules.streamsEncryptedAndScoped, rules.workgroupsEnforced, rules.glueTablesInStackBuckets]],
];

for (const [section, sectionRules] of SECTIONS) {
  describe(section, () => {
    for (const rule of sectionRules) it(`${rule.title} [${rule.id}]`, () => expectMet(rule));
  });
}

describe('the rule set', () => {
  it('runs every rule once', () => {
    const run = SECTIONS.flatMap(([, sectionRules]) => sectionRules.map((r) => r.id));
    expect([...run].sort()).toEqual(rules.ALL_RULES.map((r) => r.id).sort());
    expect(new Set(run).size).toBe(run.length);
  });

  it('lists each pending fix with the rule it breaks and the fix', () => {
    for (const { violation, fix } of PENDING_FIXES) {
      expect(rules.ALL_RULES.map((r) => `[${r.id}]`)).toContain(/\[[a-z0-9-]+\]$/.exec(violation)?.[0]);
      expect(fix.length).toBeGreaterThan(20);
    }
  });

  it('gives a reason for every allow-list entry', () => {
    const lists = [rules.STAR_RESOURCE_ALLOWED, rules.PUBLIC_ROUTES, rules.IAM_ROUTES, rules.TRUST_WITHOUT_SOURCE_CONDITION, rules.SENSITIVE_VALUE_SINKS, rules.SECRET_IN_STATE_TYPES];
    const unreasoned = lists.flatMap((list) => Object.entries(list).filter(([, reason]) => reason.trim().length < 20).map(([entry]) => entry));
    expect(unreasoned).toEqual([]);
  });
});
