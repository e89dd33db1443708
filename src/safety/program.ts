import { resolve, sep } from "node:path";
import ts from "typescript";

/**
 * A TypeScript program over one object file and the local files it imports, recursively.
 * `resolutions` says where each import specifier of each file led: a local file, or `undefined` when
 * the import is not a local file the check can read (a package, a Node module, a missing file).
 *
 * @example
 * ```ts
 * const { checker, files } = createSafetyProgram("/srv/objects/bank.ts");
 * files.map((file) => file.fileName); // ["/srv/objects/lib/fees.ts", "/srv/objects/bank.ts"]
 * ```
 */
export interface SafetyProgram {
  readonly program: ts.Program;
  readonly checker: ts.TypeChecker;
  /** The object's own code: the root file and its local imports, never `.d.ts`, JSON or `node_modules`. */
  readonly files: readonly ts.SourceFile[];
  readonly resolutions: ReadonlyMap<string, string | undefined>;
}

/**
 * The key of one import in {@link SafetyProgram.resolutions}.
 *
 * @example
 * ```ts
 * safety.resolutions.get(resolutionKey(sourceFile.fileName, "./helpers.ts")); // "/abs/helpers.ts"
 * ```
 */
export function resolutionKey(containingFile: string, specifier: string): string {
  return `${resolve(containingFile)}\0${specifier}`;
}

/**
 * No lib files and no `@types`: the program holds only the object's own code, so it is built in
 * milliseconds, and a global such as `process` resolves to no symbol at all — which is how the checks
 * tell a global from a local binding of the same name. Resolution is a bundler's, like esbuild's
 * (`./x.js` finds `x.ts`, extensions may be left out).
 */
const OPTIONS: ts.CompilerOptions = {
  noLib: true,
  types: [],
  allowJs: true,
  checkJs: false,
  resolveJsonModule: true,
  noEmit: true,
  jsx: ts.JsxEmit.Preserve,
  target: ts.ScriptTarget.ES2023,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
};

/**
 * Builds the program for `rootFile` (an absolute path). Only relative and absolute specifiers are
 * resolved, and only to source files outside `node_modules`: packages are reported, not followed.
 *
 * @example
 * ```ts
 * const { checker, files } = createSafetyProgram("/srv/objects/bank.ts");
 * ```
 */
export function createSafetyProgram(rootFile: string): SafetyProgram {
  const host = ts.createCompilerHost(OPTIONS, true);
  const resolutions = new Map<string, string | undefined>();
  host.resolveModuleNameLiterals = (literals, containingFile, _redirected, options) =>
    literals.map((literal) => {
      const resolved = resolveLocal(literal.text, containingFile, options, host);
      resolutions.set(resolutionKey(containingFile, literal.text), resolved?.resolvedFileName);
      return { resolvedModule: resolved };
    });
  const program = ts.createProgram({ rootNames: [rootFile], options: OPTIONS, host });
  const files = program
    .getSourceFiles()
    .filter(
      (file) => !file.isDeclarationFile && !file.fileName.endsWith(".json") && !inNodeModules(file.fileName),
    );
  return { program, checker: program.getTypeChecker(), files, resolutions };
}

const DECLARATION_EXTENSIONS: ReadonlySet<string> = new Set([
  ts.Extension.Dts,
  ts.Extension.Dmts,
  ts.Extension.Dcts,
]);

function resolveLocal(
  specifier: string,
  containingFile: string,
  options: ts.CompilerOptions,
  host: ts.ModuleResolutionHost,
): ts.ResolvedModuleFull | undefined {
  if (!(specifier.startsWith(".") || specifier.startsWith("/"))) return undefined;
  const resolved = ts.resolveModuleName(specifier, containingFile, options, host).resolvedModule;
  if (resolved === undefined || resolved.isExternalLibraryImport === true) return undefined;
  // A `.d.ts` has no code to check, and a path into `node_modules` is a package reached the long way.
  if (DECLARATION_EXTENSIONS.has(resolved.extension) || inNodeModules(resolved.resolvedFileName))
    return undefined;
  return resolved;
}

function inNodeModules(fileName: string): boolean {
  return resolve(fileName).split(sep).includes("node_modules");
}
