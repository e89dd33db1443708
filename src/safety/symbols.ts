import ts from "typescript";

/**
 * Whether `id` names a global rather than something the object's code declares. The program has no lib
 * files (see `createSafetyProgram`), so a global resolves to no symbol, or to one declared only ambiently
 * (`declare const process: …` declares nothing at run time: the name is still the global).
 *
 * @example
 * ```ts
 * // const process = { env: {} }; process.env   → false: the local is used
 * // process.env                                → true
 * isGlobalReference(checker, identifier);
 * ```
 */
export function isGlobalReference(checker: ts.TypeChecker, id: ts.Identifier): boolean {
  const symbol =
    ts.isShorthandPropertyAssignment(id.parent) && id.parent.name === id
      ? checker.getShorthandAssignmentValueSymbol(id.parent)
      : checker.getSymbolAtLocation(id);
  if (symbol === undefined) return true;
  return !(symbol.declarations ?? []).some((declaration) => !isAmbient(declaration));
}

function isAmbient(declaration: ts.Declaration): boolean {
  if (declaration.getSourceFile().isDeclarationFile) return true;
  for (let node: ts.Node = declaration; !ts.isSourceFile(node); node = node.parent)
    if (hasDeclareModifier(node)) return true;
  return false;
}

/**
 * Whether `node` is marked `declare` (`declare const x: T`, `declare global {…}`): it only describes
 * something that exists elsewhere, and no code of it runs.
 *
 * @example
 * ```ts
 * hasDeclareModifier(statement); // true for `declare function setTimeout(f: () => void): number;`
 * ```
 */
export function hasDeclareModifier(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)
  );
}

/**
 * The symbol `node` refers to, seen through imports (`import { t } from "./h.ts"` gives `t`'s own symbol
 * in `h.ts`) and exports, so one binding has one symbol wherever it is used.
 *
 * @example
 * ```ts
 * canonicalSymbol(checker, declaration.name) === canonicalSymbol(checker, useInAnotherFile); // true
 * ```
 */
export function canonicalSymbol(checker: ts.TypeChecker, node: ts.Node): ts.Symbol | undefined {
  let symbol = checker.getSymbolAtLocation(node);
  if (symbol === undefined) return undefined;
  if ((symbol.flags & ts.SymbolFlags.Alias) !== 0) symbol = checker.getAliasedSymbol(symbol);
  return checker.getExportSymbolOfSymbol(symbol);
}

/**
 * Whether the identifier is a value read, not a name: `x` in `a.x`, `{ x: 1 }`, `class { x() {} }`,
 * `import { x as y }` or a label is a name and never refers to a global. (Declarations resolve to their
 * own local symbol, so they need no special case; `{ x }` reads `x`.)
 *
 * @example
 * ```ts
 * // obj.process → false for `process`;  process.env → true
 * isReferencePosition(identifier);
 * ```
 */
export function isReferencePosition(id: ts.Identifier): boolean {
  const parent = id.parent;
  if (ts.isShorthandPropertyAssignment(parent)) return parent.name === id;
  if (ts.isQualifiedName(parent) || ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent))
    return false;
  if ("name" in parent && parent.name === id) return false;
  if ("propertyName" in parent && parent.propertyName === id) return false;
  if ("label" in parent && parent.label === id) return false;
  return true;
}

/**
 * Whether code at `node` runs once, when the module loads, rather than later, inside a function or
 * method. Load-time code runs the same on every replica and again after a restart, so a module-level
 * table it fills is not divergent state. Class static blocks and static field initialisers run at load;
 * instance field initialisers run in the constructor.
 *
 * @example
 * ```ts
 * // const T = []; T.push(1)            → true for the push
 * // function f() { T.push(1) }         → false
 * runsAtLoad(node);
 * ```
 */
export function runsAtLoad(node: ts.Node): boolean {
  for (let current: ts.Node = node; !ts.isSourceFile(current); current = current.parent) {
    if (ts.isFunctionLike(current)) return false;
    const parent = current.parent;
    if (ts.isPropertyDeclaration(parent) && parent.initializer === current && !isStatic(parent)) return false;
  }
  return true;
}

/**
 * Whether a class member is declared `static`.
 *
 * @example
 * ```ts
 * isStatic(member); // true for `static count = 0`
 * ```
 */
export function isStatic(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.StaticKeyword)
  );
}

/**
 * The source text of `node` for a message: whitespace collapsed, long text cut with an ellipsis.
 *
 * @example
 * ```ts
 * constructText(callee); // "globalThis.eval"
 * ```
 */
export function constructText(node: ts.Node, max = 40): string {
  const text = node.getText().replace(/\s+/g, " ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
