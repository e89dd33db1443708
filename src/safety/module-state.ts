import ts from "typescript";
import type { CheckContext } from "./context.ts";
import { accessChain, collectMutations, type Mutation } from "./mutations.ts";
import { canonicalSymbol, constructText, hasDeclareModifier, isStatic, runsAtLoad } from "./symbols.ts";

const WHY = "state outside the instance is not snapshotted and diverges after a restart";

/** A module-level binding or static field that is fine until something mutates it. */
interface Watched {
  readonly name: ts.Node;
  readonly label: string;
  mutation?: Mutation;
}

/**
 * Reports state that lives outside the replicated instance, across the object's files:
 *
 * - every module-level `let` and `var`;
 * - module-level `const`s, functions and classes whose object is mutated (`cache.set(…)`, `list.push(…)`,
 *   `TABLE.k = v`, `fn.calls++`), also from another file that imports them;
 * - static class fields that are assigned or mutated (`Bank.count++`, `this.items.push(…)` in a static
 *   method).
 *
 * Only mutations that run later, in functions and methods, count: code that runs once at load (filling a
 * table at the top level or in a `static {}` block) does the same on every replica and again after a
 * restart. A `const` that is never mutated (a frozen table, a primitive) is fine.
 *
 * @example
 * ```ts
 * checkModuleState(context, safety.files);
 * // `const seen = new Set<string>(); … seen.add(id)` in a method → a "module-state" finding at `seen`
 * ```
 */
export function checkModuleState(context: CheckContext, files: readonly ts.SourceFile[]): void {
  const watched = new Map<ts.Symbol, Watched>();
  const watch = (name: ts.Node, label: string) => {
    const symbol = canonicalSymbol(context.checker, name);
    if (symbol !== undefined) watched.set(symbol, { name, label });
  };
  for (const file of files)
    for (const statement of file.statements) {
      // `declare let x: T` only describes something that lives elsewhere.
      if (hasDeclareModifier(statement)) continue;
      if (ts.isVariableStatement(statement)) {
        const list = statement.declarationList;
        const keyword = declarationKeyword(list.flags);
        for (const declaration of list.declarations)
          for (const name of bindingNames(declaration.name)) {
            if (keyword === "let" || keyword === "var")
              context.report(name, "module-state", `module-level ${keyword} "${name.text}": ${WHY}`);
            else watch(name, `module-level ${keyword} "${name.text}"`);
          }
      } else if (ts.isFunctionDeclaration(statement) && statement.name !== undefined) {
        watch(statement.name, `module-level function "${statement.name.text}"`);
      } else if (ts.isClassDeclaration(statement)) {
        const className = statement.name?.text ?? "default";
        if (statement.name !== undefined) watch(statement.name, `module-level class "${className}"`);
        for (const member of statement.members)
          if (ts.isPropertyDeclaration(member) && isStatic(member) && !ts.isComputedPropertyName(member.name))
            watch(member.name, `static field ${className}.${member.name.getText()}`);
      }
    }
  if (watched.size === 0) return;

  for (const file of files)
    for (const mutation of collectMutations(file)) {
      if (runsAtLoad(mutation.site)) continue;
      for (const expression of accessChain(mutation.target)) {
        const symbol = symbolOf(context.checker, expression);
        const entry = symbol === undefined ? undefined : watched.get(symbol);
        if (entry !== undefined) {
          entry.mutation ??= mutation;
          break;
        }
      }
    }

  for (const { name, label, mutation } of watched.values()) {
    if (mutation === undefined) continue;
    const site = mutation.site;
    const siteFile = site.getSourceFile();
    const line = siteFile.getLineAndCharacterOfPosition(site.getStart(siteFile)).line + 1;
    const where =
      siteFile === name.getSourceFile() ? `line ${line}` : `${context.shownPath(siteFile.fileName)}:${line}`;
    context.report(name, "module-state", `${label} is mutated by ${constructText(site)} (${where}): ${WHY}`);
  }
}

function declarationKeyword(flags: ts.NodeFlags): "let" | "var" | "const" | "using" {
  if ((flags & ts.NodeFlags.Let) !== 0) return "let";
  if ((flags & ts.NodeFlags.Using) !== 0) return "using"; // `await using` has the Const bit too
  if ((flags & ts.NodeFlags.Const) !== 0) return "const";
  return "var";
}

/** The identifiers a binding declares: `a` and `b` in `const { a, b: [b] } = …`. */
function bindingNames(name: ts.BindingName): ts.Identifier[] {
  if (ts.isIdentifier(name)) return [name];
  return name.elements.flatMap((element) =>
    ts.isOmittedExpression(element) ? [] : bindingNames(element.name),
  );
}

/** The binding or property an expression in an access chain names: `Bank.count` → the static field. */
function symbolOf(checker: ts.TypeChecker, expression: ts.Expression): ts.Symbol | undefined {
  if (ts.isIdentifier(expression)) return canonicalSymbol(checker, expression);
  if (ts.isPropertyAccessExpression(expression)) return canonicalSymbol(checker, expression.name);
  if (ts.isElementAccessExpression(expression) && ts.isStringLiteralLike(expression.argumentExpression))
    return canonicalSymbol(checker, expression.argumentExpression);
  return undefined;
}
