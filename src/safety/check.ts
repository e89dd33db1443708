import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { sourceFileProblem } from "../source/source-file.ts";
import { checkAsync } from "./async.ts";
import type { CheckContext } from "./context.ts";
import { compareFindings, type SafetyFinding } from "./finding.ts";
import { checkGlobals } from "./globals.ts";
import { checkImports } from "./imports.ts";
import { checkModuleState } from "./module-state.ts";
import { createSafetyProgram, resolutionKey } from "./program.ts";

/**
 * The object file could not be checked at all (it is missing or not a file). The message is one line,
 * `file: reason`, like the errors of loading an object.
 *
 * @example
 * ```ts
 * await checkObjectSafety({ file: "nope.ts" }); // throws SafetyCheckError("nope.ts: no such file")
 * ```
 */
export class SafetyCheckError extends Error {
  override name = "SafetyCheckError";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/**
 * Checks one object file, and the local files it imports (recursively; packages are reported, not
 * followed), for what would make replicas diverge or let the object act outside the replicated state
 * machine. Findings come sorted by file, line and column; an empty list means nothing was found.
 * Paths in findings are shown the way `file` was given: relative stays relative (helpers relative to
 * the same directory), absolute stays absolute.
 *
 * @example
 * ```ts
 * const findings = await checkObjectSafety({ file: "objects/bank.ts" });
 * for (const finding of findings) console.log(formatFinding(finding));
 * // objects/bank.ts:12:5 setTimeout() runs code later, outside the replicated order of commands
 * ```
 */
export async function checkObjectSafety(options: { file: string }): Promise<SafetyFinding[]> {
  const shownRoot = options.file;
  const root = resolve(shownRoot);
  const problem = await sourceFileProblem(root);
  if (problem) throw new SafetyCheckError(shownRoot, problem);
  const safety = createSafetyProgram(root);
  // TypeScript leaves out a root it cannot read as code (`bank.txt`): say so rather than pass it.
  if (!safety.files.some((file) => resolve(file.fileName) === root))
    throw new SafetyCheckError(shownRoot, "not a TypeScript or JavaScript file");
  const findings: SafetyFinding[] = [];
  const seen = new Set<string>();
  const shownPath = (fileName: string): string => {
    const absolute = resolve(fileName);
    return absolute === root ? shownRoot : join(dirname(shownRoot), relative(dirname(root), absolute));
  };
  const context: CheckContext = {
    checker: safety.checker,
    resolveImport: (file, specifier) => safety.resolutions.get(resolutionKey(file.fileName, specifier)),
    shownPath,
    report: (node, rule, message) => {
      const file = node.getSourceFile();
      const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
      const finding = {
        file: shownPath(file.fileName),
        line: line + 1,
        column: character + 1,
        rule,
        message,
      };
      // One finding per rule and spot: a construct matched by two paths (a write and a use) says it once.
      const key = `${finding.file}:${finding.line}:${finding.column}:${rule}`;
      if (!seen.has(key)) findings.push(finding);
      seen.add(key);
    },
  };
  for (const file of safety.files) {
    for (const diagnostic of safety.program.getSyntacticDiagnostics(file))
      reportSyntax(findings, shownPath, diagnostic);
    checkImports(context, file);
    checkGlobals(context, file);
    checkAsync(context, file);
  }
  checkModuleState(context, safety.files);
  return findings.sort(compareFindings);
}

/** A file that does not parse is checked as far as it parses; where it stops parsing is a finding. */
function reportSyntax(
  findings: SafetyFinding[],
  shownPath: (fileName: string) => string,
  diagnostic: ts.DiagnosticWithLocation,
): void {
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  findings.push({
    file: shownPath(diagnostic.file.fileName),
    line: line + 1,
    column: character + 1,
    rule: "syntax",
    message: `does not parse: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`,
  });
}
