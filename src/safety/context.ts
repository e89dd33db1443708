import type ts from "typescript";
import type { SafetyRule } from "./rules.ts";

/**
 * What every rule module gets: the program's checker, where each import led, and `report`, which turns
 * a node into a finding at the node's first character (after comments and whitespace).
 *
 * @example
 * ```ts
 * function checkSomething(context: CheckContext, file: ts.SourceFile): void {
 *   context.report(node, "timer", "setTimeout runs code later …");
 * }
 * ```
 */
export interface CheckContext {
  readonly checker: ts.TypeChecker;
  /** Where an import led: a local file's absolute path, or `undefined` (see `SafetyProgram.resolutions`). */
  readonly resolveImport: (file: ts.SourceFile, specifier: string) => string | undefined;
  /** The path to show for a file: relative like the object file's path was given, or absolute. */
  readonly shownPath: (fileName: string) => string;
  readonly report: (node: ts.Node, rule: SafetyRule, message: string) => void;
}
