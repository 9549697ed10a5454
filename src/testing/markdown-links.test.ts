// Every relative link and image in the repository's Markdown resolves: to a file or folder inside the
// repository (never outside it: ../shared, /work/…), and where it names an anchor, to a heading of
// that file as GitHub spells it. Links to public pages (http, https, mailto) are not fetched.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The tracked Markdown files, plus new ones not yet added (git's view; node_modules and dist are ignored). */
function markdownFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '*.md'], { cwd: root, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((f) => f && existsSync(join(root, f)))
    .sort();
}

/** The text outside fenced code blocks (``` or ~~~), where a heading is a heading. */
const withoutFences = (markdown: string) => markdown.replace(/^ {0,3}(```|~~~)[^\n]*\n[\s\S]*?^ {0,3}\1[^\n]*$/gm, '');

/** The text outside fenced code blocks and inline code spans, where a link is a link. */
const prose = (markdown: string) => withoutFences(markdown).replace(/(`+)[^`\n]*?\1/g, '');

/** GitHub's heading anchors: lower case, punctuation dropped (letters, marks, decimal digits, connectors (_), - and spaces kept, so ² goes), spaces to -, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutFences(markdown).split('\n')) {
    const m = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{Nd}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Each link target of a file: inline links and images `[x](target)`, and reference definitions `[x]: target`. */
function targets(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/!?\[(?:[^\]]|\\\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const defs = [...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]);
  return [...inline, ...defs];
}

/** Why `target` (a link in `file`) does not resolve, or null when it does. */
function problem(file: string, target: string): string | null {
  if (/^(https?:|mailto:)/i.test(target)) return null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return `${target}: a link to neither a repository file nor a public page`;
  const [path, anchor] = target.split('#', 2) as [string, string | undefined];
  if (path.startsWith('/')) return `${target}: an absolute path; link relative to ${file}`;
  const abs = path ? resolve(root, dirname(file), decodeURIComponent(path)) : join(root, file);
  const rel = relative(root, abs);
  if (rel.startsWith('..') || rel.split(sep)[0] === '..') return `${target}: outside the repository`;
  if (!existsSync(abs)) return `${target}: no such file (${rel})`;
  if (anchor !== undefined && statSync(abs).isFile() && abs.endsWith('.md') && !anchors(readFileSync(abs, 'utf8')).has(anchor.toLowerCase())) {
    return `${target}: ${rel} has no heading #${anchor}`;
  }
  return null;
}

describe('Markdown links', () => {
  it('anchors are spelled as GitHub spells them', () => {
    expect([...anchors('# A b\n## 2b. The option `clip` (not in method.md)\n## A b\n```\n# not a heading\n```\n### Batch generation (CLI)')]).toEqual([
      'a-b',
      '2b-the-option-clip-not-in-methodmd',
      'a-b-1',
      'batch-generation-cli',
    ]);
  });

  it('a link out of the repository, to a missing file or to a missing heading is found', () => {
    expect(problem('README.md', '../shared/METHOD.md')).toMatch(/outside the repository/);
    expect(problem('README.md', 'METHOD.md')).toMatch(/no such file/);
    expect(problem('README.md', 'docs/method.md#no-such-heading')).toMatch(/has no heading/);
    expect(problem('README.md', '/work/runs')).toMatch(/absolute path/);
    expect(problem('docs/studio.md', 'method.md')).toBeNull();
    expect(problem('README.md', 'https://arxiv.org/abs/2507.14833')).toBeNull();
  });

  it('every relative link in every Markdown file resolves inside the repository', () => {
    const broken = markdownFiles().flatMap((file) =>
      targets(readFileSync(join(root, file), 'utf8'))
        .map((t) => problem(file, t))
        .filter((p): p is string => p !== null)
        .map((p) => `${file}: ${p}`),
    );
    expect(broken, broken.join('\n')).toEqual([]);
  });
});
