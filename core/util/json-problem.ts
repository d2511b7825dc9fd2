/**
 * What is wrong with a file that is not valid JSON, without its content. V8's JSON.parse messages quote the text
 * (`Unexpected token 'r', "root:x:0:0"... is not valid JSON`), so echoing them would show a file the user may not
 * mean to share (e.g. /etc/passwd picked by mistake) in errors, logs and HTTP answers. Keeps only the position.
 */
export function jsonProblem(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e)
  if (/Unexpected end of JSON input/i.test(m)) return 'not valid JSON (it ends early)'
  const pos = /at position (\d+)(?: \(line (\d+) column (\d+)\))?/.exec(m)
  if (pos) return `not valid JSON (at ${pos[2] ? `line ${pos[2]} column ${pos[3]}` : `byte ${pos[1]}`})`
  return 'not valid JSON'
}
