import ts from "typescript";
import type { CheckContext } from "./context.ts";
import { CRYPTO_ALLOWED, classifyModule } from "./rules.ts";
import { constructText } from "./symbols.ts";

/**
 * Checks what a file loads: static imports and re-exports of IO modules, of packages (their code is not
 * checked), of local files that cannot be found, and of random functions of `node:crypto`; and every
 * dynamic `import()`. Type-only imports are erased before the code runs and are never reported.
 * (`require` is a global and is reported with the other globals.)
 *
 * @example
 * ```ts
 * checkImports(context, sourceFile); // `import { readFileSync } from "node:fs"` → an "io-module" finding
 * ```
 */
export function checkImports(context: CheckContext, file: ts.SourceFile): void {
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      if (!isTypeOnlyImport(statement)) {
        const bindings = statement.importClause?.namedBindings;
        const named = bindings !== undefined && ts.isNamedImports(bindings) ? bindings.elements : [];
        checkModule(context, file, statement.moduleSpecifier, named);
      }
    } else if (
      ts.isExportDeclaration(statement) &&
      statement.moduleSpecifier !== undefined &&
      ts.isStringLiteral(statement.moduleSpecifier) &&
      !statement.isTypeOnly
    ) {
      const clause = statement.exportClause;
      // `export * from "node:crypto"` hands out everything, random functions included.
      const named = clause !== undefined && ts.isNamedExports(clause) ? clause.elements : undefined;
      checkModule(context, file, statement.moduleSpecifier, named);
    } else if (
      ts.isImportEqualsDeclaration(statement) &&
      !statement.isTypeOnly &&
      ts.isExternalModuleReference(statement.moduleReference) &&
      ts.isStringLiteral(statement.moduleReference.expression)
    ) {
      checkModule(context, file, statement.moduleReference.expression, []);
    }
  }
  checkDynamicImports(context, file);
}

function isTypeOnlyImport(declaration: ts.ImportDeclaration): boolean {
  const clause = declaration.importClause;
  if (clause === undefined) return false; // `import "x"` runs x
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return (
    clause.name === undefined &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

/**
 * `named` lists the names taken from the module, or is `undefined` when everything is (`export *`).
 * Default and namespace imports of `node:crypto` are checked where they are used (see `globals.ts`).
 */
function checkModule(
  context: CheckContext,
  file: ts.SourceFile,
  specifier: ts.StringLiteral,
  named: readonly (ts.ImportSpecifier | ts.ExportSpecifier)[] | undefined,
): void {
  const text = specifier.text;
  switch (classifyModule(text)) {
    case "io":
      context.report(
        specifier,
        "io-module",
        `imports "${text}": IO and the process are outside the replicated state`,
      );
      return;
    case "package":
      context.report(specifier, "package-import", `imports a package ("${text}"): its code is not checked`);
      return;
    case "local":
      if (context.resolveImport(file, text) === undefined)
        context.report(
          specifier,
          "unresolved-import",
          `imports "${text}", which is not a local source file the check can read: its code is not checked`,
        );
      return;
    case "crypto":
      if (named === undefined) {
        context.report(specifier, "crypto", `re-exports all of "${text}", random functions included`);
        return;
      }
      for (const element of named) {
        const name = (element.propertyName ?? element.name).text;
        if (!element.isTypeOnly && !CRYPTO_ALLOWED.has(name))
          context.report(
            element,
            "crypto",
            `imports ${name} from "${text}": random or asynchronous, differs on every replica (only randomUUID() is agreed on)`,
          );
      }
      return;
    case "builtin":
      return;
  }
}

function checkDynamicImports(context: CheckContext, file: ts.SourceFile): void {
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      context.report(
        node,
        "dynamic-import",
        `${constructText(node)} loads code at run time, outside the checked source`,
      );
    ts.forEachChild(node, visit);
  };
  visit(file);
}
