/**
 * The docs cannot rot: every ```ts block of README.md and docs/*.md, and of every `@example` in the doc
 * comments of src/, is written to a temporary directory as a module of its own and type-checked with the
 * TypeScript compiler API, under the repository's compiler options, with `taskguard` and
 * `taskguard/simulator` mapped to the sources.
 *
 * A block is a complete module: it imports what it uses and declares (`declare const x: …`) what the
 * page assumes. Top-level await is fine. A block fenced ```ts no-check is skipped — for the rare block
 * that cannot stand alone; a failure lists the page, the block's number on that page and its line.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One fenced code block of a markdown page. */
interface CodeBlock {
  /** The fence's language word (`ts`, `sh`, …), lower case; '' if none. */
  readonly lang: string;
  /** The words after the language, such as `no-check`. */
  readonly flags: readonly string[];
  /** The code, with the fence's indentation removed. */
  readonly code: string;
  /** Line of the page (1-based) where the code starts, the line after the opening fence. */
  readonly line: number;
}

const TS_LANGS = new Set(['ts', 'typescript', 'mts']);

/** Every fenced block of a markdown page, including fences indented inside list items. */
function extractBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '```', lang = '', rest = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(line);
      if (close && close[1]?.[0] === fence[0] && (close[1]?.length ?? 0) >= fence.length) break;
      // Remove the fence's indentation (CommonMark: up to as many spaces as the opening fence had).
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    blocks.push({ lang: lang.toLowerCase(), flags: rest.split(/\s+/).filter(Boolean), code: body.join('\n'), line: i + 2 });
    i = j;
  }
  return blocks;
}

/**
 * The fenced blocks of the `@example` tags in a source file's doc comments, each with its line in the
 * file: a comment loses its ` * ` margin, and what is not inside an `@example` (up to the next tag) is
 * blanked, so that {@link extractBlocks} reads the examples alone.
 */
function exampleBlocks(source: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  for (const comment of source.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const firstLine = source.slice(0, comment.index).split('\n').length;
    let inExample = false;
    let inFence = false;
    const text = comment[0].split('\n').map((raw) => {
      const line = raw.replace(/^\s*\/\*\*\s?/, '').replace(/\s*\*\/$/, '').replace(/^\s*\* ?/, '');
      if (/^\s*(`{3,}|~{3,})/.test(line)) inFence = !inFence;
      else if (!inFence && /^@\w/.test(line)) inExample = line.startsWith('@example');
      return inExample ? line : '';
    });
    for (const block of extractBlocks(text.join('\n'))) blocks.push({ ...block, line: firstLine + block.line - 1 });
  }
  return blocks;
}

/** How many `@example` tags the doc comments of a source file hold. */
function exampleTags(source: string): number {
  return source.match(/^\s*\* @example\b/gm)?.length ?? 0;
}

/** The .ts files of src/ with at least one `@example`, relative to the repository root. */
function exampleSources(): string[] {
  return (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts') && exampleTags(readFileSync(join(ROOT, 'src', file), 'utf8')) > 0)
    .map((file) => `src/${file.split('\\').join('/')}`)
    .sort();
}

/** The ts blocks of a page or a source file. */
function tsBlocks(page: string): CodeBlock[] {
  const text = readFileSync(join(ROOT, page), 'utf8');
  return (page.endsWith('.md') ? extractBlocks(text) : exampleBlocks(text)).filter((block) => TS_LANGS.has(block.lang));
}

/** The pages whose snippets are checked, relative to the repository root. */
function markdownPages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'), { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ['README.md', ...docs];
}

/** A ts block written out as a module. */
interface Snippet {
  readonly page: string;
  /** 1-based number among the page's ts blocks (skipped ones included), as a reader counts them. */
  readonly number: number;
  readonly line: number;
  readonly file: string;
}

interface CheckResult {
  readonly snippets: readonly Snippet[];
  readonly skipped: readonly { readonly page: string; readonly number: number; readonly line: number }[];
  /** Formatted diagnostics per page. */
  readonly failures: ReadonlyMap<string, string[]>;
}

/** The repository's compiler options, with the package's own names mapped to its sources. */
function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, undefined, configPath);
  return {
    ...parsed.options,
    noEmit: true,
    // A snippet shows an API: the value it declares for the reader need not be used afterwards.
    noUnusedLocals: false,
    noUnusedParameters: false,
    paths: {
      taskguard: [resolve(ROOT, 'src/index.ts')],
      'taskguard/simulator': [resolve(ROOT, 'src/simulator/index.ts')],
    },
  };
}

function checkSnippets(dir: string): CheckResult {
  const snippets: Snippet[] = [];
  const skipped: { page: string; number: number; line: number }[] = [];
  for (const page of [...markdownPages(), ...exampleSources()]) {
    tsBlocks(page).forEach((block, index) => {
      const number = index + 1;
      if (block.flags.includes('no-check')) {
        skipped.push({ page, number, line: block.line });
        return;
      }
      const file = join(dir, `${page.replace(/\.(md|ts)$/, '').replace(/[^\w-]+/g, '_')}.block${number}.ts`);
      // Each block is a module of its own (top-level await, no clashes between blocks).
      const isModule = /^\s*(import|export)\b/m.test(block.code);
      writeFileSync(file, isModule ? `${block.code}\n` : `${block.code}\nexport {};\n`);
      snippets.push({ page, number, line: block.line, file });
    });
  }

  const program = ts.createProgram({ rootNames: snippets.map((s) => s.file), options: compilerOptions() });
  const byFile = new Map(snippets.map((s) => [resolve(s.file), s]));
  const failures = new Map<string, string[]>();
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const snippet = diagnostic.file ? byFile.get(resolve(diagnostic.file.fileName)) : undefined;
    if (diagnostic.file && !snippet) continue; // in src/ or a library: `npm run typecheck` reports those
    if (!snippet) {
      const list = failures.get('(compiler options)') ?? [];
      list.push(`error TS${diagnostic.code}: ${message}`);
      failures.set('(compiler options)', list);
      continue;
    }
    const { line, character } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const list = failures.get(snippet.page) ?? [];
    list.push(`${snippet.page} block ${snippet.number} (line ${snippet.line + line}:${character + 1}): error TS${diagnostic.code}: ${message}`);
    failures.set(snippet.page, list);
  }
  return { snippets, skipped, failures };
}

describe('extractBlocks', () => {
  it('finds fenced blocks with their language, flags and first line, and ignores text around them', () => {
    const page = ['# Title', '', '```ts', 'const a = 1;', '```', 'text', '```sh', 'npm test', '```', '```ts no-check', 'oops(', '```'].join('\n');
    expect(extractBlocks(page)).toEqual([
      { lang: 'ts', flags: [], code: 'const a = 1;', line: 4 },
      { lang: 'sh', flags: [], code: 'npm test', line: 8 },
      { lang: 'ts', flags: ['no-check'], code: 'oops(', line: 11 },
    ]);
  });

  it('removes the indentation of a fence inside a list item and keeps the code indented within it', () => {
    const page = ['1. Step:', '', '   ```ts', '   if (x) {', '     y();', '   }', '   ```'].join('\n');
    expect(extractBlocks(page)).toEqual([{ lang: 'ts', flags: [], code: 'if (x) {\n  y();\n}', line: 4 }]);
  });

  it('does not close a block on a shorter fence or a fence of the other kind', () => {
    const page = ['````md', '```ts', 'inner', '```', '~~~', '````', '```ts', 'after', '```'].join('\n');
    const blocks = extractBlocks(page);
    expect(blocks.map((b) => b.lang)).toEqual(['md', 'ts']);
    expect(blocks[0]?.code).toBe('```ts\ninner\n```\n~~~');
    expect(blocks[1]?.code).toBe('after');
  });
});

describe('exampleBlocks', () => {
  it('reads the blocks of @example tags only, at their lines in the file, without the comment margin', () => {
    const source = [
      '/**',
      ' * Text with a block that is no example:',
      ' * ```ts',
      ' * notAnExample();',
      ' * ```',
      ' *',
      ' * @example',
      ' * ```ts',
      ' * @sealed',
      ' * class C {',
      ' *   m() {}',
      ' * }',
      ' * ```',
      ' * @param x - not an example either',
      ' * ```ts',
      ' * neither();',
      ' * ```',
      ' */',
      'export function f(x: boolean) {}',
    ].join('\n');
    // `@sealed` is code inside the fence, not a tag that would end the example.
    expect(exampleBlocks(source)).toEqual([{ lang: 'ts', flags: [], code: '@sealed\nclass C {\n  m() {}\n}', line: 9 }]);
    expect(exampleTags(source)).toBe(1);
  });
});

describe('code blocks of README.md, docs/*.md and the @example tags of src/', () => {
  let dir: string;
  let result: CheckResult;

  beforeAll(() => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    // Inside the repository (.tmp/ is git-ignored) so that node_modules (vitest, @types/node) resolve.
    dir = mkdtempSync(join(ROOT, '.tmp', 'docs-snippets-'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    result = checkSnippets(dir);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds ts blocks in README.md and in the guides', () => {
    const pages = new Set(result.snippets.map((s) => s.page));
    expect(pages.has('README.md')).toBe(true);
    expect([...pages].filter((page) => page.startsWith('docs/')).length).toBeGreaterThan(0);
    // Every snippet is a file of the temporary directory, named after its page and number.
    for (const snippet of result.snippets) expect(relative(dir, snippet.file)).toMatch(/^[\w-]+\.block\d+\.ts$/);
  });

  it('accepts the compiler options (paths to the sources included)', () => {
    expect(result.failures.get('(compiler options)') ?? []).toEqual([]);
  });

  it.each(markdownPages())('every ts block of %s type-checks', (page) => {
    const failures = result.failures.get(page) ?? [];
    expect(failures, `\n${failures.join('\n')}\n`).toEqual([]);
  });

  it('finds a ts block in every @example of src/', () => {
    const sources = exampleSources();
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      const tags = exampleTags(readFileSync(join(ROOT, source), 'utf8'));
      expect(result.snippets.filter((snippet) => snippet.page === source).length, source).toBeGreaterThanOrEqual(tags);
    }
  });

  it.each(exampleSources())('every @example of %s type-checks', (source) => {
    const failures = result.failures.get(source) ?? [];
    expect(failures, `\n${failures.join('\n')}\n`).toEqual([]);
  });
});
