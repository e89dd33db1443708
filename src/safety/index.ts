/**
 * The static safety check of a replicated object's source (ConCoord's `-s`): what would make replicas
 * compute different states, or let the object act outside the replicated state machine.
 *
 * @example
 * ```ts
 * import { checkObjectSafety, formatFinding } from "./safety/index.ts";
 * const findings = await checkObjectSafety({ file: "counter.ts" });
 * for (const finding of findings) console.error(formatFinding(finding));
 * ```
 */
export { checkObjectSafety, SafetyCheckError } from "./check.ts";
export { compareFindings, formatFinding, type SafetyFinding } from "./finding.ts";
export { SAFETY_RULES, type SafetyRule } from "./rules.ts";
