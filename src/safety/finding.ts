/**
 * One thing in an object's source that would make replicas diverge or let the object act outside the
 * replicated state machine. Lines and columns are 1-based, as editors show them.
 *
 * @example
 * ```ts
 * const finding: SafetyFinding = {
 *   file: "bank.ts", line: 3, column: 1, rule: "module-state",
 *   message: 'module-level let "opened": state outside the instance is not snapshotted …',
 * };
 * ```
 */
export interface SafetyFinding {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly rule: string;
  readonly message: string;
}

/**
 * The finding as one line, `file:line:col message`: the shape compilers print, so terminals and editors
 * turn it into a link to the spot.
 *
 * @example
 * ```ts
 * formatFinding({ file: "lock.ts", line: 4, column: 5, rule: "timer", message: "setTimeout …" });
 * // "lock.ts:4:5 setTimeout …"
 * ```
 */
export function formatFinding(f: SafetyFinding): string {
  return `${f.file}:${f.line}:${f.column} ${f.message}`;
}

/**
 * Orders findings by file, line, column (then rule and message, so the order never depends on the order
 * the checks ran in). Comparison is by code unit, not locale, for the same output on every machine.
 *
 * @example
 * ```ts
 * findings.sort(compareFindings);
 * ```
 */
export function compareFindings(a: SafetyFinding, b: SafetyFinding): number {
  return (
    compareText(a.file, b.file) ||
    a.line - b.line ||
    a.column - b.column ||
    compareText(a.rule, b.rule) ||
    compareText(a.message, b.message)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
