/**
 * A Markdown or LaTeX (booktabs) table of selected runs, straight from the runs table's rows (the app's "Table of
 * selected runs"). Pure: RunRow[] in, text out.
 */
import type { RunRow } from '../contract/api.js'

const num = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : String(+x.toFixed(digits)))
const count = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x >= 1e6 ? `${+(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${+(x / 1e3).toFixed(1)}k` : String(x))

const HEAD = ['Run', 'Kind', 'L', 'Dim', 'Params', 'Seed', 'Target E', 'Val CE', 'Train loss', 'Zeros']
function cells(r: RunRow): string[] {
  return [r.name, r.kind, String(r.nLayers ?? '–'), String(r.dim ?? '–'), count(r.params), String(r.seed ?? '–'), num(r.targetEnd, 3), num(r.valLoss), num(r.trainLoss), num(r.zeroFraction, 3)]
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
export function runsTableMarkdown(rows: readonly RunRow[]): string {
  const right = (i: number) => i >= 2
  return [
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map((_, i) => (right(i) ? '---:' : ':---')).join('|')}|`,
    ...rows.map((r) => `| ${cells(r).map(mdCell).join(' | ')} |`),
  ].join('\n')
}

const TEX: Record<string, string> = { '\\': '\\textbackslash{}', '&': '\\&', '%': '\\%', $: '\\$', '#': '\\#', _: '\\_', '{': '\\{', '}': '\\}', '~': '\\textasciitilde{}', '^': '\\textasciicircum{}' }
export const texEscape = (s: string) => s.replace(/[\\&%$#_{}~^]/g, (c) => TEX[c]!).replace(/–/g, '--')
export function runsTableLatex(rows: readonly RunRow[], caption = 'Selected runs.'): string {
  return [
    '\\begin{table}[t]',
    '\\centering',
    `\\begin{tabular}{ll${'r'.repeat(HEAD.length - 2)}}`,
    '\\toprule',
    `${HEAD.map(texEscape).join(' & ')} \\\\`,
    '\\midrule',
    ...rows.map((r) => `${cells(r).map(texEscape).join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
    `\\caption{${texEscape(caption)}}`,
    '\\end{table}',
  ].join('\n')
}
