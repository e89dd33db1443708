import ts from "typescript";
import type { CheckContext } from "./context.ts";

const WHY =
  "methods must be synchronous (what follows would run after later commands, at a different point on each replica)";

/**
 * Reports `async` functions and methods and every `await` (including `for await` and top-level await).
 * A replica applies one command after another; an async method returns before its work is done, so the
 * rest of it would interleave with later commands depending on timing. Generators are synchronous and
 * fine.
 *
 * @example
 * ```ts
 * checkAsync(context, sourceFile); // `async acquire() {…}` → an "async" finding at `async`
 * ```
 */
export function checkAsync(context: CheckContext, file: ts.SourceFile): void {
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && ts.canHaveModifiers(node)) {
      const asyncKeyword = ts.getModifiers(node)?.find((m) => m.kind === ts.SyntaxKind.AsyncKeyword);
      if (asyncKeyword !== undefined)
        context.report(asyncKeyword, "async", `${describeFunction(node)}: ${WHY}`);
    }
    if (ts.isAwaitExpression(node)) context.report(node, "async", `await: ${WHY}`);
    if (ts.isForOfStatement(node) && node.awaitModifier !== undefined)
      context.report(node.awaitModifier, "async", `for await: ${WHY}`);
    ts.forEachChild(node, visit);
  };
  visit(file);
}

function describeFunction(node: ts.SignatureDeclaration): string {
  const name =
    node.name !== undefined && !ts.isComputedPropertyName(node.name) ? node.name.getText() : undefined;
  if (ts.isArrowFunction(node)) return "async arrow function";
  const kind = ts.isMethodDeclaration(node) ? "method" : "function";
  return name === undefined ? `async ${kind}` : `async ${kind} "${name}"`;
}
