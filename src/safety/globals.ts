import ts from "typescript";
import type { CheckContext } from "./context.ts";
import { accessChain, accessedName, collectMutations, skipWrappers } from "./mutations.ts";
import { GLOBAL_OBJECTS, GLOBAL_RULES } from "./rules.ts";
import { constructText, hasDeclareModifier, isGlobalReference, isReferencePosition } from "./symbols.ts";

/**
 * Checks a file's uses of globals that reach outside the replicated state machine or differ between
 * replicas (`process`, timers, `fetch`, `eval`, `new Function`, `performance`, `crypto.*` but
 * `randomUUID`, `Atomics.wait`, `SharedArrayBuffer`, `require`…, see `GLOBAL_RULES`), also when read
 * through the global object (`globalThis.fetch`), and every write to a global (`globalThis.x = 1`,
 * `Math.random = f`). A local declaration of the same name shadows the global and is not reported.
 *
 * @example
 * ```ts
 * checkGlobals(context, sourceFile); // `setTimeout(tick, 10)` → a "timer" finding at `setTimeout`
 * ```
 */
export function checkGlobals(context: CheckContext, file: ts.SourceFile): void {
  // Writes first: `globalThis[key] = v` is then reported as the write it is, not as a use of globalThis.
  checkGlobalWrites(context, file);
  const cryptoNames = cryptoModuleBindingNames(file);
  const visit = (node: ts.Node): void => {
    if (isErased(node)) {
      // `class Job extends Worker`: a heritage clause's expression runs, though it sits in a type node.
      if (ts.isExpressionWithTypeArguments(node) && isClassExtends(node.parent)) visit(node.expression);
      return;
    }
    if (ts.isIdentifier(node) && isReferencePosition(node)) checkIdentifier(context, node, cryptoNames);
    ts.forEachChild(node, visit);
  };
  visit(file);
}

/** Types, interfaces, ambient declarations and imports: nothing in them runs. */
function isErased(node: ts.Node): boolean {
  return (
    ts.isTypeNode(node) ||
    ts.isInterfaceDeclaration(node) ||
    ts.isTypeAliasDeclaration(node) ||
    ts.isImportDeclaration(node) ||
    ts.isImportEqualsDeclaration(node) ||
    ts.isExportDeclaration(node) ||
    hasDeclareModifier(node)
  );
}

function isClassExtends(node: ts.Node): boolean {
  return (
    ts.isHeritageClause(node) && node.token === ts.SyntaxKind.ExtendsKeyword && ts.isClassLike(node.parent)
  );
}

function checkIdentifier(context: CheckContext, id: ts.Identifier, cryptoNames: ReadonlySet<string>): void {
  // Names are compared before symbols are asked for: resolving every identifier would be slow.
  if (cryptoNames.has(id.text) && isCryptoModuleBinding(context.checker, id)) {
    reportUse(context, "crypto", id);
    return;
  }
  const name = id.text;
  if (!(GLOBAL_RULES.has(name) || GLOBAL_OBJECTS.has(name) || name === "Function")) return;
  if (!isGlobalReference(context.checker, id)) return;
  if (GLOBAL_OBJECTS.has(name)) checkGlobalObject(context, id);
  else reportUse(context, name, id);
}

/**
 * A use of the global object: `globalThis.fetch` is a use of `fetch`. Passing the object itself around,
 * or indexing it with a computed key, could reach any global, so it is reported as such. `typeof
 * window` only tests for it.
 */
function checkGlobalObject(context: CheckContext, id: ts.Identifier): void {
  const parent = id.parent;
  if (ts.isTypeOfExpression(parent)) return;
  if (
    (ts.isPropertyAccessExpression(parent) || ts.isElementAccessExpression(parent)) &&
    parent.expression === id
  ) {
    const member = accessedName(parent);
    if (member !== undefined) {
      if (GLOBAL_RULES.has(member) || member === "Function") reportUse(context, member, parent);
      return;
    }
  }
  context.report(
    id,
    "global-write",
    `uses ${constructText(parent.kind === ts.SyntaxKind.ElementAccessExpression ? parent : id)} as a value: any global could be read or written through it`,
  );
}

/**
 * Reports `reference`, a use of the global `name` (an identifier, or a property of the global object),
 * naming the construct as written: `process.hrtime()`, `new Function()`, `globalThis.eval()`.
 */
function reportUse(context: CheckContext, name: string, reference: ts.Expression): void {
  const parent = reference.parent;
  const accessed =
    (ts.isPropertyAccessExpression(parent) || ts.isElementAccessExpression(parent)) &&
    parent.expression === reference;
  const member = accessed ? accessedName(parent) : undefined;
  const used = accessed && member !== undefined ? parent : reference;
  const user = used.parent;
  const called = ts.isCallExpression(user) && user.expression === used;
  const constructed = ts.isNewExpression(user) && user.expression === used;
  let construct = `${constructText(reference)}${member !== undefined ? `.${member}` : ""}`;
  if (called || constructed) {
    // `require("fs")` says what it loads; other calls are named without their arguments.
    const first = called && name === "require" ? user.arguments[0] : undefined;
    const argument = first !== undefined && ts.isStringLiteralLike(first) ? first.getText() : "";
    construct = `${constructed ? "new " : ""}${construct}(${argument})`;
  }
  if (name === "Function") {
    // `Function` itself is harmless (`x instanceof Function`); calling it compiles a string, like eval.
    if (called || constructed)
      context.report(
        reference,
        "eval",
        `${construct} runs code built from a string, which cannot be checked`,
      );
    return;
  }
  if (name === "eval" && !called) construct = `indirect eval ${constructText(outermostOperand(reference))}`;
  const rule = GLOBAL_RULES.get(name);
  const message = rule?.message(construct, member);
  if (rule !== undefined && message !== undefined) context.report(reference, rule.rule, message);
}

/** `(0, eval)` for the `eval` in `(0, eval)(code)`: the text that shows how it is reached. */
function outermostOperand(node: ts.Expression): ts.Node {
  let current: ts.Node = node;
  while (
    ts.isParenthesizedExpression(current.parent) ||
    (ts.isBinaryExpression(current.parent) && current.parent.operatorToken.kind === ts.SyntaxKind.CommaToken)
  )
    current = current.parent;
  return current;
}

/** The names bound by default and namespace imports of `node:crypto` in the file. */
function cryptoModuleBindingNames(file: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement) && isCryptoSpecifier(statement.moduleSpecifier)) {
      const clause = statement.importClause;
      if (clause?.name !== undefined) names.add(clause.name.text);
      if (clause?.namedBindings !== undefined && ts.isNamespaceImport(clause.namedBindings))
        names.add(clause.namedBindings.name.text);
    } else if (
      ts.isImportEqualsDeclaration(statement) &&
      ts.isExternalModuleReference(statement.moduleReference) &&
      isCryptoSpecifier(statement.moduleReference.expression)
    )
      names.add(statement.name.text);
  }
  return names;
}

function isCryptoSpecifier(specifier: ts.Expression): boolean {
  return ts.isStringLiteral(specifier) && /^(node:)?crypto$/.test(specifier.text);
}

/**
 * A default or namespace import of `node:crypto` (`import * as nodeCrypto from "node:crypto"`): its uses
 * are checked like the global `crypto`'s, so `nodeCrypto.randomUUID()` passes and
 * `nodeCrypto.randomBytes(8)` does not.
 */
function isCryptoModuleBinding(checker: ts.TypeChecker, id: ts.Identifier): boolean {
  const declaration = checker.getSymbolAtLocation(id)?.declarations?.[0];
  if (declaration === undefined) return false;
  let specifier: ts.Expression | undefined;
  if (ts.isNamespaceImport(declaration)) specifier = declaration.parent.parent.moduleSpecifier;
  else if (ts.isImportClause(declaration) && declaration.name !== undefined)
    specifier = declaration.parent.moduleSpecifier;
  else if (
    ts.isImportEqualsDeclaration(declaration) &&
    ts.isExternalModuleReference(declaration.moduleReference)
  )
    specifier = declaration.moduleReference.expression;
  return specifier !== undefined && isCryptoSpecifier(specifier);
}

/**
 * Writes to globals: the global object (`globalThis.x = 1`, `Object.assign(window, …)`), built-ins
 * (`Math.random = f`, `Array.prototype.x = …`) and undeclared names. They change the whole process, not
 * the object's state, and outlive it. A write through a global whose use is reported anyway
 * (`process.env.X = …`) is not reported twice; one that is not (`crypto.randomUUID = f`) is.
 */
function checkGlobalWrites(context: CheckContext, file: ts.SourceFile): void {
  for (const { target, kind } of collectMutations(file)) {
    const chain = accessChain(target);
    const root = chain.at(-1);
    if (root === undefined || !ts.isIdentifier(root) || !isGlobalReference(context.checker, root)) continue;
    // `Atomics.add(…)`, `console.clear()`: a built-in namespace's function, not a collection being changed.
    if (kind === "method" && chain.length === 1) continue;
    // The global the write goes through, and the member of it that is written to (`crypto`, `randomUUID`).
    const depth = GLOBAL_OBJECTS.has(root.text) && chain.length >= 2 ? 2 : 1;
    const name = depth === 2 ? accessedName(chain.at(-2) ?? root) : root.text;
    const member = chain.length > depth ? accessedName(chain.at(-1 - depth) ?? root) : undefined;
    if (name !== undefined && GLOBAL_RULES.get(name)?.message(name, member) !== undefined) continue;
    const written = skipWrappers(target);
    context.report(
      written,
      "global-write",
      written === root && !GLOBAL_OBJECTS.has(root.text)
        ? `assigns the undeclared global ${root.text}: it is shared by the whole process, outside the replicated state`
        : `writes ${constructText(written)}: globals are shared by the whole process, outside the replicated state`,
    );
  }
}
