import ts from "typescript";

/**
 * How the object's file is read: strict TypeScript for Node (ESM, `.ts` imports allowed), JavaScript too
 * (the server hosts `.js` classes), nothing emitted. Only the default library of ES2023 is loaded — not the
 * DOM — because objects run on Node, and each library file costs parse time.
 *
 * @example
 * ```ts
 * const program = createObjectProgram(["/app/counter.ts"], { ...OBJECT_COMPILER_OPTIONS, types: ["node"] });
 * ```
 */
export const OBJECT_COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2023,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ["lib.es2023.d.ts"],
  allowJs: true,
  allowImportingTsExtensions: true,
  skipLibCheck: true,
  noEmit: true,
};

/**
 * Parsed declaration files of packages (the TypeScript libraries, `@types/node`…), shared by every program
 * this process creates. Parsing them is most of the cost of a program, they do not change while the
 * process runs, and the compiler itself shares source files between programs (that is what its language
 * service does), so a second `generateProxy` in one process is fast. The user's own files are never
 * cached: they are what changes between runs.
 */
const sharedSourceFiles = new Map<string, ts.SourceFile>();

/** Whether `fileName` is a declaration file inside a package, safe to share between programs. */
function isSharedFile(fileName: string): boolean {
  return fileName.endsWith(".d.ts") && fileName.includes("/node_modules/");
}

/**
 * A program over `files` with {@link OBJECT_COMPILER_OPTIONS} (or `options`), reusing the parsed package
 * declaration files of earlier programs.
 *
 * @example
 * ```ts
 * const program = createObjectProgram(["/app/counter.ts"]);
 * const checker = program.getTypeChecker();
 * ```
 */
export function createObjectProgram(
  files: readonly string[],
  options: ts.CompilerOptions = OBJECT_COMPILER_OPTIONS,
): ts.Program {
  const host = ts.createCompilerHost(options, true);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (!isSharedFile(fileName)) return read(fileName, languageVersion, onError, shouldCreate);
    // A file parses differently for another target or module format: those are part of the key.
    const how =
      typeof languageVersion === "object"
        ? `${languageVersion.languageVersion}/${languageVersion.impliedNodeFormat}/${languageVersion.jsDocParsingMode}`
        : `${languageVersion}`;
    const key = `${fileName}\0${how}`;
    let file = sharedSourceFiles.get(key);
    if (file === undefined) {
      file = read(fileName, languageVersion, onError, shouldCreate);
      if (file !== undefined) sharedSourceFiles.set(key, file);
    }
    return file;
  };
  return ts.createProgram({ rootNames: files, options, host });
}
