import { dirname, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { CodegenError } from "./errors.ts";

/** One `import type` of the generated proxy. */
export interface TypeImport {
  /** The module specifier, as the proxy writes it (relative to the proxy, or a package name). */
  readonly specifier: string;
  /** `named`: `import type { name as local }`; `default`: `import type local`; `namespace`: `import type * as local`. */
  readonly kind: "named" | "default" | "namespace";
  /** The name the module exports (`"default"` and `"*"` for the other kinds). */
  readonly name: string;
  /** The name the proxy's signatures use. */
  readonly local: string;
}

/**
 * The module specifier of `file` as seen from directory `fromDir`: POSIX separators, starting with `./` or
 * `../`, extension kept (the proxy imports `.ts` files the way the project does, `allowImportingTsExtensions`).
 *
 * @example
 * ```ts
 * relativeSpecifier("/app/proxies", "/app/objects/counter.ts"); // "../objects/counter.ts"
 * ```
 */
export function relativeSpecifier(fromDir: string, file: string): string {
  const path = relative(fromDir, file).split(sep).join("/");
  return path.startsWith("../") ? path : `./${path}`;
}

/**
 * The names the proxy imports, each given one local name. Two different types that share a name (or a
 * type that shares a name with the proxy's own class, e.g. a method that returns the object's class as
 * data) get `Name_2`, `Name_3`…, assigned in the order they are met, so the output is deterministic.
 *
 * @example
 * ```ts
 * const imports = new TypeImports(["Counter"]);
 * imports.add("./counter.ts", "named", "Counter", "Counter"); // "Counter_2"
 * imports.add("./types.ts", "named", "Options", "Options"); // "Options"
 * ```
 */
export class TypeImports {
  readonly #byKey = new Map<string, TypeImport>();
  readonly #taken = new Set<string>();

  /** `reserved`: names the proxy declares or imports itself. */
  constructor(reserved: Iterable<string>) {
    for (const name of reserved) this.#taken.add(name);
  }

  /** Registers an import (once) and returns its local name, `preferred` unless that name is taken. */
  add(specifier: string, kind: TypeImport["kind"], name: string, preferred: string): string {
    const key = `${kind}\0${specifier}\0${name}`;
    const known = this.#byKey.get(key);
    if (known !== undefined) return known.local;
    let local = preferred;
    for (let n = 2; this.#taken.has(local); n++) local = `${preferred}_${n}`;
    this.#taken.add(local);
    this.#byKey.set(key, { specifier, kind, name, local });
    return local;
  }

  /** Every import, sorted by specifier, kind and name. */
  list(): TypeImport[] {
    const order = (a: TypeImport, b: TypeImport): number =>
      compare(a.specifier, b.specifier) || compare(a.kind, b.kind) || compare(a.name, b.name);
    return [...this.#byKey.values()].sort(order);
  }
}

/** Plain code-unit order: the same on every machine, unlike `localeCompare`. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How the checker writes a type it has to spell out: in full, never `...` */
const BUILDER_FLAGS = ts.NodeBuilderFlags.NoTruncation;

/** What a {@link TypeWriter} works on. */
export interface TypeWriterContext {
  readonly program: ts.Program;
  /** The class being proxied: the scope in which the checker names types. */
  readonly classDecl: ts.ClassLikeDeclaration;
  /** The class's symbol, and the name the object file exports it under. */
  readonly classSymbol: ts.Symbol;
  readonly className: string;
  /** The directory of the proxy file: relative specifiers are rewritten to start from here. */
  readonly outDir: string;
  /** The object's file as the user gave it, for error messages. */
  readonly shownFile: string;
  readonly imports: TypeImports;
}

/**
 * Writes the types of a class's signatures as source text for the proxy, and collects the imports that
 * text needs.
 *
 * Two ways, as the declaration allows:
 * - {@link fromNode}: the declaration's own type text, with only the names that must change rewritten
 *   (an import renamed to avoid a clash, `this`, a relative `import("…")`). This keeps aliases and the
 *   author's spelling, so `Tally` stays `Tally` rather than its expansion.
 * - {@link fromType}: the checker's spelling of a type, for what has no annotation (inferred results,
 *   JavaScript), and for methods inherited from a generic base class, whose text mentions the base's
 *   type parameters (`T`) where the proxy needs the instantiation (`string`).
 *
 * Every name is resolved to its declaration: the default library and other globals need nothing; a type
 * declared at the top level of a module needs `import type` from that file (which must export it); a name
 * the file itself imports is imported by the proxy from the same module.
 *
 * @example
 * ```ts
 * const writer = new TypeWriter({ program, classDecl, classSymbol, className: "Inventory", outDir, shownFile, imports });
 * writer.fromNode(method.type!); // "Map<Sku, number>", and imports now holds `Sku` from "./inventory.ts"
 * ```
 */
export class TypeWriter {
  readonly #ctx: TypeWriterContext;
  readonly #checker: ts.TypeChecker;
  readonly #printer = ts.createPrinter({ removeComments: true });
  #scope: Map<string, ts.Symbol> | null = null;
  /** The member being written, for error messages. */
  member = "";

  constructor(ctx: TypeWriterContext) {
    this.#ctx = ctx;
    this.#checker = ctx.program.getTypeChecker();
  }

  /**
   * The source text of a node of the object's code (a type, a type parameter), names rewritten for the
   * proxy as needed.
   */
  fromNode(node: ts.Node): string {
    const file = node.getSourceFile();
    const start = node.getStart(file);
    const edits: { start: number; end: number; text: string }[] = [];
    const rename = (name: ts.EntityName): void => {
      const first = leftmost(name);
      const local = this.#localName(this.#checker.getSymbolAtLocation(first), first.text, file);
      if (local !== first.text) edits.push({ start: first.getStart(file), end: first.end, text: local });
    };
    const visit = (n: ts.Node): void => {
      if (ts.isTypeReferenceNode(n)) {
        rename(n.typeName);
        n.typeArguments?.forEach(visit);
      } else if (ts.isTypeQueryNode(n)) {
        rename(n.exprName);
        n.typeArguments?.forEach(visit);
      } else if (ts.isThisTypeNode(n)) {
        // `this` in the object is the object's class; in the proxy it would be the proxy.
        edits.push({ start: n.getStart(file), end: n.end, text: this.selfType() });
      } else if (ts.isImportTypeNode(n)) {
        const literal = ts.isLiteralTypeNode(n.argument) ? n.argument.literal : undefined;
        if (literal !== undefined && ts.isStringLiteral(literal)) {
          const specifier = this.#respecify(literal.text, file);
          if (specifier !== literal.text)
            edits.push({ start: literal.getStart(file), end: literal.end, text: JSON.stringify(specifier) });
        }
        n.typeArguments?.forEach(visit);
      } else {
        ts.forEachChild(n, visit);
      }
    };
    visit(node);
    let text = file.text.slice(start, node.end);
    for (const edit of edits.sort((a, b) => b.start - a.start))
      text = text.slice(0, edit.start - start) + edit.text + text.slice(edit.end - start);
    return text;
  }

  /** The checker's spelling of `type`, as seen from the class, names rewritten for the proxy. */
  fromType(type: ts.Type): string {
    const node = this.#checker.typeToTypeNode(type, this.#ctx.classDecl, BUILDER_FLAGS);
    if (node === undefined) {
      throw new CodegenError(
        this.#ctx.shownFile,
        `cannot write the type of ${this.member} (${this.#checker.typeToString(type)}): annotate it`,
      );
    }
    return this.#printSynthesized(node);
  }

  /** A type parameter (`T extends Key = string`) as the checker spells it from the class. */
  fromTypeParameter(parameter: ts.TypeParameter): string {
    const node = this.#checker.typeParameterToDeclaration(parameter, this.#ctx.classDecl, BUILDER_FLAGS);
    return node === undefined ? parameter.symbol.getName() : this.#printSynthesized(node);
  }

  /**
   * The object's class used as a type, which is what `this` means in the object: its local name, with
   * the class's type parameters (which the proxy class carries over) as arguments.
   */
  selfType(): string {
    const { local, parameters } = this.#self();
    return parameters.length > 0 ? `${local}<${parameters.join(", ")}>` : local;
  }

  #self(): { local: string; parameters: string[] } {
    const { classSymbol, className, classDecl } = this.#ctx;
    const local = this.#localName(classSymbol, className, classDecl.getSourceFile());
    return { local, parameters: classDecl.typeParameters?.map((p) => p.name.text) ?? [] };
  }

  /** Whether `symbol` is the default library's `Promise`. */
  isGlobalPromise(symbol: ts.Symbol | undefined): boolean {
    return (
      symbol?.getName() === "Promise" &&
      (symbol.getDeclarations() ?? []).some((d) =>
        this.#ctx.program.isSourceFileDefaultLibrary(d.getSourceFile()),
      )
    );
  }

  /** Whether the type node `node` names the default library's `Promise`. */
  isGlobalPromiseNode(node: ts.TypeNode): boolean {
    return (
      ts.isTypeReferenceNode(node) &&
      ts.isIdentifier(node.typeName) &&
      this.isGlobalPromise(this.#checker.getSymbolAtLocation(node.typeName))
    );
  }

  /** Prints a node the checker built, after renaming its names for the proxy. */
  #printSynthesized(node: ts.Node): string {
    const renamer: ts.TransformerFactory<ts.Node> = (context) => {
      const { factory } = context;
      const rename = (name: ts.EntityName): ts.EntityName => {
        if (ts.isQualifiedName(name)) return factory.updateQualifiedName(name, rename(name.left), name.right);
        const text = ts.idText(name);
        const local = this.#localName(
          this.#scopeSymbols().get(text),
          text,
          this.#ctx.classDecl.getSourceFile(),
        );
        return local === text ? name : factory.createIdentifier(local);
      };
      const visit = (n: ts.Node): ts.Node => {
        if (ts.isTypeReferenceNode(n)) {
          const args = ts.visitNodes(n.typeArguments, visit, ts.isTypeNode);
          return factory.updateTypeReferenceNode(n, rename(n.typeName), args);
        }
        if (ts.isTypeQueryNode(n)) {
          const args = ts.visitNodes(n.typeArguments, visit, ts.isTypeNode);
          return factory.updateTypeQueryNode(n, rename(n.exprName), args);
        }
        if (ts.isThisTypeNode(n)) {
          const { local, parameters } = this.#self();
          const args = parameters.map((p) => factory.createTypeReferenceNode(p));
          return factory.createTypeReferenceNode(local, args.length > 0 ? args : undefined);
        }
        if (ts.isImportTypeNode(n)) return this.#importTypeToReference(n, factory, visit);
        return ts.visitEachChild(n, visit, context);
      };
      return (root) => visit(root);
    };
    const result = ts.transform(node, [renamer]);
    const renamed = result.transformed[0] ?? node;
    const text = this.#printer.printNode(
      ts.EmitHint.Unspecified,
      renamed,
      this.#ctx.classDecl.getSourceFile(),
    );
    result.dispose();
    return text;
  }

  /**
   * `import("./types").Options`, which the checker writes for a type the class's file does not name, as
   * `Options` with an `import type` from the file the specifier resolves to.
   */
  #importTypeToReference(
    node: ts.ImportTypeNode,
    factory: ts.NodeFactory,
    visit: (n: ts.Node) => ts.Node,
  ): ts.TypeNode {
    const literal = ts.isLiteralTypeNode(node.argument) ? node.argument.literal : undefined;
    if (literal === undefined || !ts.isStringLiteral(literal) || node.qualifier === undefined) {
      throw new CodegenError(this.#ctx.shownFile, `cannot write a type of ${this.member}: annotate it`);
    }
    const from = this.#ctx.classDecl.getSourceFile().fileName;
    const resolved = ts.resolveModuleName(literal.text, from, this.#ctx.program.getCompilerOptions(), ts.sys);
    const module = resolved.resolvedModule;
    const specifier =
      module !== undefined && !module.isExternalLibraryImport
        ? relativeSpecifier(this.#ctx.outDir, module.resolvedFileName)
        : literal.text;
    const first = leftmost(node.qualifier);
    const local = this.#ctx.imports.add(specifier, "named", ts.idText(first), ts.idText(first));
    const replace = (name: ts.EntityName): ts.EntityName =>
      ts.isQualifiedName(name)
        ? factory.createQualifiedName(replace(name.left), name.right)
        : factory.createIdentifier(local);
    const args = ts.visitNodes(node.typeArguments, visit, ts.isTypeNode);
    return node.isTypeOf
      ? factory.createTypeQueryNode(replace(node.qualifier), args)
      : factory.createTypeReferenceNode(replace(node.qualifier), args);
  }

  /** The symbols visible by name where the class is declared, innermost first (as names resolve). */
  #scopeSymbols(): Map<string, ts.Symbol> {
    if (this.#scope === null) {
      this.#scope = new Map();
      const meaning =
        ts.SymbolFlags.Type | ts.SymbolFlags.Value | ts.SymbolFlags.Namespace | ts.SymbolFlags.Alias;
      for (const symbol of this.#checker.getSymbolsInScope(this.#ctx.classDecl, meaning)) {
        if (!this.#scope.has(symbol.getName())) this.#scope.set(symbol.getName(), symbol);
      }
    }
    return this.#scope;
  }

  /**
   * The name the proxy uses for `symbol`, written `written` in `file`, registering the import it needs:
   * none for globals and type parameters; the same module as `file`'s own import for an imported name;
   * the declaring file for a type declared at the top level of a module.
   */
  #localName(symbol: ts.Symbol | undefined, written: string, file: ts.SourceFile): string {
    if (symbol === undefined || symbol.flags & ts.SymbolFlags.TypeParameter) return written;
    const declaration = symbol.getDeclarations()?.[0];
    if (declaration === undefined) return written;
    if (symbol.flags & ts.SymbolFlags.Alias) return this.#importedName(declaration, written, file);
    // `b: typeof a` names a parameter of the same signature, which the proxy keeps under the same name.
    if (ts.isParameter(declaration)) return written;
    const declaringFile = declaration.getSourceFile();
    const { program } = this.#ctx;
    if (program.isSourceFileDefaultLibrary(declaringFile) || !ts.isExternalModule(declaringFile))
      return written;
    if (topLevelStatement(declaration) === undefined) {
      if (inGlobalAugmentation(declaration)) return written;
      throw new CodegenError(
        this.#ctx.shownFile,
        `${this.member} uses "${written}", which is not declared at the top level of ${declaringFile.fileName}: move it there and export it`,
      );
    }
    if (
      program.isSourceFileFromExternalLibrary(declaringFile) ||
      declaringFile.fileName.includes("/node_modules/")
    ) {
      throw new CodegenError(
        this.#ctx.shownFile,
        `${this.member} uses "${written}" from a package without importing it by name: annotate it`,
      );
    }
    const exportName = this.#exportName(symbol, declaringFile);
    if (exportName === undefined) {
      throw new CodegenError(
        this.#ctx.shownFile,
        `${this.member} uses "${written}", which ${declaringFile.fileName} does not export: export it so that the proxy can import it`,
      );
    }
    const specifier = relativeSpecifier(this.#ctx.outDir, declaringFile.fileName);
    return exportName === "default"
      ? this.#ctx.imports.add(specifier, "default", "default", written)
      : this.#ctx.imports.add(specifier, "named", exportName, written);
  }

  /** The name under which `file` exports `symbol`, if it does. */
  #exportName(symbol: ts.Symbol, file: ts.SourceFile): string | undefined {
    const checker = this.#checker;
    const moduleSymbol = checker.getSymbolAtLocation(file);
    if (moduleSymbol === undefined) return undefined;
    const target = checker.getExportSymbolOfSymbol(symbol);
    const resolve = (s: ts.Symbol): ts.Symbol =>
      checker.getExportSymbolOfSymbol(s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
    const names = checker
      .getExportsOfModule(moduleSymbol)
      .filter((e) => e === symbol || resolve(e) === target)
      .map((e) => e.getName());
    // Prefer the declared name, then any other, in a fixed order.
    return names.includes(symbol.getName()) ? symbol.getName() : names.sort(compare)[0];
  }

  /** The proxy's name for a name that `file` imports (`import type { Options } from "./types.ts"`). */
  #importedName(declaration: ts.Declaration, written: string, file: ts.SourceFile): string {
    const { imports } = this.#ctx;
    if (ts.isImportSpecifier(declaration)) {
      const specifier = this.#moduleSpecifier(declaration.parent.parent.parent, file);
      const name = (declaration.propertyName ?? declaration.name).text;
      return imports.add(specifier, name === "default" ? "default" : "named", name, written);
    }
    if (ts.isImportClause(declaration))
      return imports.add(this.#moduleSpecifier(declaration.parent, file), "default", "default", written);
    if (ts.isNamespaceImport(declaration))
      return imports.add(this.#moduleSpecifier(declaration.parent.parent, file), "namespace", "*", written);
    throw new CodegenError(
      this.#ctx.shownFile,
      `${this.member} uses "${written}", which is not imported with an import declaration: import it with \`import type\``,
    );
  }

  #moduleSpecifier(declaration: ts.ImportDeclaration | ts.JSDocImportTag, file: ts.SourceFile): string {
    const specifier = declaration.moduleSpecifier;
    if (!ts.isStringLiteral(specifier)) throw new CodegenError(this.#ctx.shownFile, "malformed import");
    return this.#respecify(specifier.text, file);
  }

  /** A specifier written in `file`, as the proxy must write it: relative ones start from the proxy. */
  #respecify(specifier: string, file: ts.SourceFile): string {
    if (!specifier.startsWith("./") && !specifier.startsWith("../")) return specifier;
    return relativeSpecifier(this.#ctx.outDir, resolve(dirname(file.fileName), specifier));
  }
}

/** `a` of `a.b.c`: the name that resolves in scope. */
function leftmost(name: ts.EntityName): ts.Identifier {
  let first = name;
  while (ts.isQualifiedName(first)) first = first.left;
  return first;
}

/** The statement of the source file that declares `declaration`, when it is declared at the top level. */
function topLevelStatement(declaration: ts.Declaration): ts.Node | undefined {
  let node: ts.Node = declaration;
  if (ts.isVariableDeclaration(node)) node = node.parent.parent;
  return ts.isSourceFile(node.parent) ? node : undefined;
}

/** Whether `node` is inside `declare global { … }`: global, nothing to import. */
function inGlobalAugmentation(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node.parent; n !== undefined; n = n.parent) {
    if (ts.isModuleDeclaration(n) && n.flags & ts.NodeFlags.GlobalAugmentation) return true;
  }
  return false;
}
