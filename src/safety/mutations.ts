import ts from "typescript";
import { isMutatingMethod } from "./rules.ts";

/**
 * One place where code changes an object or a binding: `target` is what changes (`cache` in
 * `cache.set(k, v)`, `Bank.count` in `Bank.count++`, `globalThis.x` in `globalThis.x = 1`) and `site`
 * is the whole expression that changes it.
 *
 * @example
 * ```ts
 * // list.push(1) → { target: `list`, site: `list.push(1)`, kind: "method" }
 * // a.b = 2      → { target: `a.b`, site: `a.b = 2`, kind: "write" }
 * const [mutation] = collectMutations(sourceFile);
 * ```
 */
export interface Mutation {
  readonly target: ts.Expression;
  readonly site: ts.Node;
  /** `method` for a call of a mutating method, which is known by its name only (see `isMutatingMethod`). */
  readonly kind: "write" | "method";
}

const REFLECTIVE_WRITES: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ["Object", new Set(["assign", "defineProperty", "defineProperties", "setPrototypeOf"])],
  ["Reflect", new Set(["set", "defineProperty", "deleteProperty", "setPrototypeOf"])],
]);

/**
 * Every mutation in a file: assignments (including compound and destructuring ones, and `for (x.k of …)`),
 * `++`/`--`, `delete`, calls of mutating methods (`push`, `set`, `add`…, see `isMutatingMethod`), and
 * `Object.assign`/`Object.defineProperty`/`Reflect.set`… on their first argument.
 *
 * @example
 * ```ts
 * for (const { target } of collectMutations(sourceFile)) console.log(target.getText());
 * ```
 */
export function collectMutations(sourceFile: ts.SourceFile): Mutation[] {
  const mutations: Mutation[] = [];
  const add = (target: ts.Expression, site: ts.Node) => {
    for (const t of assignmentTargets(target)) mutations.push({ target: t, site, kind: "write" });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isBinaryExpression(node) && isAssignmentOperator(node.operatorToken.kind)) add(node.left, node);
    else if (
      (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
      (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)
    )
      add(node.operand, node);
    else if (ts.isDeleteExpression(node)) add(node.expression, node);
    else if (
      (ts.isForOfStatement(node) || ts.isForInStatement(node)) &&
      !ts.isVariableDeclarationList(node.initializer)
    )
      add(node.initializer, node);
    else if (ts.isCallExpression(node)) {
      const mutation = callMutation(node);
      if (mutation !== undefined) mutations.push(mutation);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return mutations;
}

function isAssignmentOperator(kind: ts.SyntaxKind): boolean {
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}

/** The expressions a (possibly destructuring) assignment target writes to: `[a.x, ...b.y] = …` writes two. */
function assignmentTargets(target: ts.Expression): ts.Expression[] {
  const inner = skipWrappers(target);
  if (ts.isArrayLiteralExpression(inner)) return inner.elements.flatMap(assignmentTargets);
  if (ts.isObjectLiteralExpression(inner))
    return inner.properties.flatMap((property) => {
      if (ts.isPropertyAssignment(property)) return assignmentTargets(property.initializer);
      if (ts.isShorthandPropertyAssignment(property)) return [property.name];
      if (ts.isSpreadAssignment(property)) return assignmentTargets(property.expression);
      return [];
    });
  if (ts.isSpreadElement(inner)) return assignmentTargets(inner.expression);
  // `[x.a = 1] = list`: a default value inside a pattern.
  if (ts.isBinaryExpression(inner) && inner.operatorToken.kind === ts.SyntaxKind.EqualsToken)
    return assignmentTargets(inner.left);
  return [inner];
}

function callMutation(call: ts.CallExpression): Mutation | undefined {
  const callee = skipWrappers(call.expression);
  const name = accessedName(callee);
  if (name === undefined || !(ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee)))
    return undefined;
  const receiver = skipWrappers(callee.expression);
  if (ts.isIdentifier(receiver) && REFLECTIVE_WRITES.get(receiver.text)?.has(name) === true) {
    const target = call.arguments[0];
    return target === undefined ? undefined : { target, site: call, kind: "write" };
  }
  return isMutatingMethod(name) ? { target: callee.expression, site: call, kind: "method" } : undefined;
}

/**
 * The name of the property an access reads: `x` for `a.x`, `a["x"]` and `a.#x`; `undefined` for a
 * computed key such as `a[k]` or for anything that is not an access.
 *
 * @example
 * ```ts
 * accessedName(node); // "push" for `list.push`
 * ```
 */
export function accessedName(node: ts.Node): string | undefined {
  if (ts.isPropertyAccessExpression(node)) return node.name.text;
  if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression))
    return node.argumentExpression.text;
  return undefined;
}

/**
 * Strips what does not change which object an expression denotes: parentheses, `!`, `as`, `satisfies`
 * and `<T>x`.
 *
 * @example
 * ```ts
 * skipWrappers(node); // `cache` for `(cache as Map<string, number>)!`
 * ```
 */
export function skipWrappers(node: ts.Expression): ts.Expression {
  let current = node;
  while (
    ts.isParenthesizedExpression(current) ||
    ts.isNonNullExpression(current) ||
    ts.isAsExpression(current) ||
    ts.isSatisfiesExpression(current) ||
    ts.isTypeAssertionExpression(current)
  )
    current = current.expression;
  return current;
}

/** Methods that hand out an object held inside their receiver, so a change to it changes the receiver. */
const INNER_GETTERS: ReadonlySet<string> = new Set(["get", "at", "find", "findLast"]);

/**
 * The expressions whose object a change to `target` changes, from `target` itself down to its root:
 * `Bank.accounts.get(id).history.push(…)` changes `….history`, `Bank.accounts.get(id)`, `Bank.accounts`
 * and `Bank`. Calls other than `get`/`at`/`find` end the chain (`list.slice().sort()` leaves `list` alone).
 *
 * @example
 * ```ts
 * accessChain(target).map((e) => e.getText()); // ["a.b.c", "a.b", "a"]
 * ```
 */
export function accessChain(target: ts.Expression): ts.Expression[] {
  const chain: ts.Expression[] = [];
  let current: ts.Expression | undefined = skipWrappers(target);
  while (current !== undefined) {
    chain.push(current);
    if (ts.isPropertyAccessExpression(current) || ts.isElementAccessExpression(current))
      current = skipWrappers(current.expression);
    else if (ts.isCallExpression(current)) {
      const callee = skipWrappers(current.expression);
      const name = accessedName(callee);
      current =
        name !== undefined &&
        INNER_GETTERS.has(name) &&
        (ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee))
          ? skipWrappers(callee.expression)
          : undefined;
    } else current = undefined;
  }
  return chain;
}
