/**
 * The docs cannot rot: every ```ts block of README.md and docs/*.md is written to a temporary directory
 * as a module of its own and type-checked with the TypeScript compiler API, under the repository's
 * compiler options, with `taskguard` and `taskguard/simulator` mapped to the sources.
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
  for (const page of markdownPages()) {
    const blocks = extractBlocks(readFileSync(join(ROOT, page), 'utf8')).filter((block) => TS_LANGS.has(block.lang));
    blocks.forEach((block, index) => {
      const number = index + 1;
      if (block.flags.includes('no-check')) {
        skipped.push({ page, number, line: block.line });
        return;
      }
      const file = join(dir, `${page.replace(/\.md$/, '').replace(/[^\w-]+/g, '_')}.block${number}.ts`);
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

describe('code blocks of README.md and docs/*.md', () => {
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
});
