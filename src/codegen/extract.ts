import ts from "typescript";
import { INIT_METHOD, isCallableName } from "../object/methods.ts";
import { CodegenError } from "./errors.ts";
import { type TypeImport, TypeImports, TypeWriter } from "./types.ts";

/** A parameter of a proxy method, as written in the proxy. */
export interface ParamModel {
  /** The original name (`argN` for a destructured parameter, which has none). */
  readonly name: string;
  readonly type: string;
  /** `?`: declared optional, or with a default value (the default applies on the object). */
  readonly optional: boolean;
  /** `...name` */
  readonly rest: boolean;
}

/** One signature of a proxy method (a method with overloads has several). */
export interface SignatureModel {
  /** The JSDoc comment of the original declaration, continuation lines indented relative to `/**`. */
  readonly doc: string | null;
  /** `<T extends Key>`, or "" */
  readonly typeParameters: string;
  readonly params: readonly ParamModel[];
  /** The proxy's return type: always a `Promise<…>`. */
  readonly returnType: string;
}

/** A method clients may call, with its signatures. */
export interface MethodModel {
  readonly name: string;
  readonly signatures: readonly SignatureModel[];
}

/** What the proxy of a class needs to know about it. */
export interface ClassModel {
  readonly className: string;
  /** The class's JSDoc comment. */
  readonly doc: string | null;
  /** The class's type parameters (`<T>`), carried over to the proxy, or "". */
  readonly typeParameters: string;
  /** The methods clients may call, sorted by name like the server's list (`__concoordinit__` apart). */
  readonly methods: readonly MethodModel[];
  /** `__concoordinit__`, with the constructor's parameters. */
  readonly init: MethodModel;
  readonly imports: readonly TypeImport[];
}

/** What {@link extractClass} reads. */
export interface ExtractOptions {
  /** The absolute path of the object's file, a root of `program`. */
  readonly file: string;
  /** The file as the user named it, for error messages. */
  readonly shownFile: string;
  readonly className: string;
  /** The directory the proxy is written to: import specifiers are relative to it. */
  readonly outDir: string;
  /** Names the proxy itself declares or imports, which imported types must not take. */
  readonly reserved: readonly string[];
}

/**
 * Reads class `className` of `file` with the type checker: its callable methods — public instance methods
 * of the class and its base classes whose names do not start with `_`, not accessors, not fields (even
 * function-valued ones), which is what the server lets clients call (see `src/object/methods.ts`) — with
 * their signatures and JSDoc, and its constructor's parameters. Throws {@link CodegenError} when the file
 * does not parse or does not export such a class.
 *
 * @example
 * ```ts
 * const program = createObjectProgram(["/app/counter.ts"]);
 * const model = extractClass(program, {
 *   file: "/app/counter.ts", shownFile: "counter.ts", className: "Counter", outDir: "/app", reserved: [],
 * });
 * model.methods.map((m) => m.name); // ["decrement", "getvalue", "increment"]
 * ```
 */
export function extractClass(program: ts.Program, options: ExtractOptions): ClassModel {
  const { shownFile, className } = options;
  const file = program.getSourceFile(options.file);
  if (file === undefined) throw new CodegenError(shownFile, "the TypeScript compiler cannot read it");
  const syntaxError = program.getSyntacticDiagnostics(file)[0];
  if (syntaxError !== undefined)
    throw new CodegenError(shownFile, `does not compile: ${describe(syntaxError)}`);

  const checker = program.getTypeChecker();
  const classSymbol = findClass(checker, file, shownFile, className);
  const classDecl = classSymbol.getDeclarations()?.find(ts.isClassLike);
  if (classDecl === undefined) throw new CodegenError(shownFile, `"${className}" has no class declaration`);

  const imports = new TypeImports(options.reserved);
  const writer = new TypeWriter({
    program,
    classDecl,
    classSymbol,
    className,
    outDir: options.outDir,
    shownFile,
    imports,
  });
  const signatures = new SignatureReader(checker, writer, classDecl);

  writer.member = `class ${className}`;
  const typeParameters = classDecl.typeParameters
    ? `<${classDecl.typeParameters.map((p) => writer.fromNode(p)).join(", ")}>`
    : "";

  const methods: MethodModel[] = [];
  for (const property of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(classSymbol))) {
    if (!isClientMethod(program, property)) continue;
    writer.member = `method "${property.getName()}"`;
    const callSignatures = checker.getTypeOfSymbol(property).getCallSignatures();
    if (callSignatures.length === 0) continue;
    methods.push({
      name: property.getName(),
      signatures: callSignatures.map((s) => signatures.read(s, false)),
    });
  }
  methods.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  writer.member = "the constructor";
  const constructSignatures = checker.getTypeOfSymbol(classSymbol).getConstructSignatures();
  const init: MethodModel = {
    name: INIT_METHOD,
    signatures: constructSignatures.map((s) => signatures.read(s, true)),
  };

  return { className, doc: jsDocOf(classDecl), typeParameters, methods, init, imports: imports.list() };
}

/** The exported class `className` of `file`, or a {@link CodegenError} that says what is there instead. */
function findClass(
  checker: ts.TypeChecker,
  file: ts.SourceFile,
  shownFile: string,
  className: string,
): ts.Symbol {
  const moduleSymbol = checker.getSymbolAtLocation(file);
  const exports = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
  const resolve = (s: ts.Symbol): ts.Symbol =>
    s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
  const found = exports.find((e) => e.getName() === className);
  if (found === undefined) {
    // The server imports the class by its export name, so a class that is only declared does not count.
    const declared = file.statements.some((s) => ts.isClassDeclaration(s) && s.name?.text === className);
    if (declared) throw new CodegenError(shownFile, `class "${className}" is not exported`);
    const classes = exports
      .filter((e) => resolve(e).flags & ts.SymbolFlags.Class)
      .map((e) => e.getName())
      .sort();
    throw new CodegenError(
      shownFile,
      `no exported class named "${className}" (${classes.length > 0 ? `classes: ${classes.join(", ")}` : "it exports no class"})`,
    );
  }
  const symbol = resolve(found);
  if (!(symbol.flags & ts.SymbolFlags.Class))
    throw new CodegenError(shownFile, `"${className}" is not a class (it is ${kindOf(symbol)})`);
  return symbol;
}

/** "a function", "an interface"…: what an export that is not a class is. */
function kindOf(symbol: ts.Symbol): string {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Function) return "a function";
  if (f & ts.SymbolFlags.Variable) return "a variable";
  if (f & ts.SymbolFlags.Enum) return "an enum";
  if (f & ts.SymbolFlags.Interface) return "an interface";
  if (f & ts.SymbolFlags.TypeAlias) return "a type alias";
  if (f & ts.SymbolFlags.Module) return "a namespace";
  return "not a value";
}

/**
 * Whether clients may call property `symbol` of the instance type: a method (every declaration a method
 * of a class, so not a field holding a function, not an accessor, not an interface's method signature),
 * public, with a callable name, and not from the default library (the server skips built-in prototypes).
 * The instance type already holds the nearest declaration of each name, as a property lookup does.
 */
function isClientMethod(program: ts.Program, symbol: ts.Symbol): boolean {
  if (!(symbol.flags & ts.SymbolFlags.Method) || !isCallableName(symbol.getName())) return false;
  const declarations = symbol.getDeclarations() ?? [];
  return (
    declarations.length > 0 &&
    declarations.every(
      (d) =>
        ts.isMethodDeclaration(d) &&
        ts.isClassLike(d.parent) &&
        !ts.isPrivateIdentifier(d.name) &&
        !(ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) &&
        !program.isSourceFileDefaultLibrary(d.getSourceFile()),
    )
  );
}

/** Turns the checker's signatures into {@link SignatureModel}s. */
class SignatureReader {
  readonly #checker: ts.TypeChecker;
  readonly #writer: TypeWriter;
  readonly #classDecl: ts.ClassLikeDeclaration;

  constructor(checker: ts.TypeChecker, writer: TypeWriter, classDecl: ts.ClassLikeDeclaration) {
    this.#checker = checker;
    this.#writer = writer;
    this.#classDecl = classDecl;
  }

  /** One signature; `init`: a construct signature, whose proxy returns `Promise<void>`. */
  read(signature: ts.Signature, init: boolean): SignatureModel {
    const checker = this.#checker;
    const writer = this.#writer;
    const found = signature.getDeclaration() as ts.SignatureDeclaration | ts.JSDocSignature | undefined;
    // A default constructor has no declaration; JSDoc signatures have no parameters of their own to read.
    const declaration =
      found !== undefined && (ts.isMethodDeclaration(found) || ts.isConstructorDeclaration(found))
        ? found
        : undefined;
    const text = declaration !== undefined && this.#textIsValid(declaration);

    // A construct signature's type parameters are the class's, which the proxy class already declares.
    const typeParameters = init
      ? ""
      : text && declaration.typeParameters
        ? `<${declaration.typeParameters.map((p) => writer.fromNode(p)).join(", ")}>`
        : signatureTypeParameters(signature, writer);

    const declared = declaration?.parameters.filter((p) => !isThisParameter(p)) ?? [];
    const params = signature.getParameters().map((symbol, i): ParamModel => {
      const p = declared[i];
      const rest = p?.dotDotDotToken !== undefined;
      return {
        name: p === undefined ? symbol.getName() : ts.isIdentifier(p.name) ? p.name.text : `arg${i}`,
        type: text && p?.type ? writer.fromNode(p.type) : writer.fromType(checker.getTypeOfSymbol(symbol)),
        optional: p !== undefined && !rest && checker.isOptionalParameter(p),
        rest,
      };
    });

    return {
      doc: init || declaration === undefined ? null : jsDocOf(declaration),
      typeParameters,
      params,
      returnType: init ? "Promise<void>" : this.#returnType(signature, text ? declaration?.type : undefined),
    };
  }

  /**
   * Whether the declaration's own type text means the same in the proxy: it belongs to the class itself
   * (whose type parameters the proxy carries over), or to a top-level base class without type
   * parameters. A generic base's text says `T` where the proxy needs the instantiation.
   */
  #textIsValid(declaration: ts.MethodDeclaration | ts.ConstructorDeclaration): boolean {
    const owner = declaration.parent;
    return (
      owner === this.#classDecl ||
      (ts.isClassDeclaration(owner) && owner.typeParameters === undefined && ts.isSourceFile(owner.parent))
    );
  }

  /** The proxy's `Promise<…>` return type for a method declared to return `node` (or inferred). */
  #returnType(signature: ts.Signature, node: ts.TypeNode | undefined): string {
    if (node !== undefined && ts.isTypePredicateNode(node)) {
      // `x is T` answers a boolean; `asserts x` returns nothing or throws.
      return node.assertsModifier ? "Promise<void>" : "Promise<boolean>";
    }
    let written: string;
    let promise: boolean;
    if (node !== undefined) {
      written = this.#writer.fromNode(node);
      promise = this.#writer.isGlobalPromiseNode(node);
    } else {
      const type = signature.getReturnType();
      written = this.#writer.fromType(type);
      promise = this.#writer.isGlobalPromise(type.getSymbol());
    }
    // A method that already returns a Promise keeps its type: the call resolves to what it resolves to.
    return promise ? written : `Promise<${written}>`;
  }
}

/** The type parameters of a signature as the checker writes them, or "". */
function signatureTypeParameters(signature: ts.Signature, writer: TypeWriter): string {
  const parameters = signature.getTypeParameters() ?? [];
  return parameters.length > 0 ? `<${parameters.map((p) => writer.fromTypeParameter(p)).join(", ")}>` : "";
}

/** `this: Foo` declares the receiver's type, not an argument. */
function isThisParameter(parameter: ts.ParameterDeclaration): boolean {
  return ts.isIdentifier(parameter.name) && parameter.name.text === "this";
}

/** "message at line L, column C" of a diagnostic. */
function describe(diagnostic: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
  if (diagnostic.file === undefined || diagnostic.start === undefined) return message;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  return `${message} at line ${line + 1}, column ${character + 1}`;
}

/**
 * The JSDoc comment (`/** … *\/`) right before `node`, verbatim except for indentation: continuation lines
 * lose the indentation of the line the comment starts on, so the proxy can indent it its own way.
 *
 * @example
 * ```ts
 * jsDocOf(addMethod); // "/**\n * Adds `quantity` of `sku`.\n *\/"
 * ```
 */
export function jsDocOf(node: ts.Node): string | null {
  const file = node.getSourceFile();
  const text = file.text;
  const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
  const doc = ranges
    .filter(
      (r) =>
        r.kind === ts.SyntaxKind.MultiLineCommentTrivia &&
        text.startsWith("/**", r.pos) &&
        !text.startsWith("/**/", r.pos),
    )
    .at(-1);
  if (doc === undefined) return null;
  const { line } = file.getLineAndCharacterOfPosition(doc.pos);
  const column = doc.pos - (file.getLineStarts()[line] ?? doc.pos);
  const [first = "", ...rest] = text.slice(doc.pos, doc.end).split(/\r?\n/);
  const dedent = (l: string): string => {
    let cut = 0;
    while (cut < column && (l[cut] === " " || l[cut] === "\t")) cut++;
    return l.slice(cut).trimEnd();
  };
  return [first.trimEnd(), ...rest.map(dedent)].join("\n");
}
